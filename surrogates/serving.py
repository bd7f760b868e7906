"""Answering from a fitted surrogate where the tables end, marked as predicted.

``Database.lookup(..., surrogate=...)`` and ``Benchmark`` (through :class:`SurrogateMiss`)
use this module; a surrogate answers only for the key it was fitted on, and only after
its files passed the checks in :func:`nasdb.surrogates.store.load`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from nasdb.surrogates import store, training

from nasdb.errors import LookupMiss, SurrogateError

_MATCH = ("space", "task", "metric", "device", "fidelity")


@dataclass
class Answer:
    """Values of a batch; ``predicted`` marks those a surrogate gave, ``std`` is their
    ensemble spread (NaN for measured values)."""

    value: np.ndarray
    std: np.ndarray
    predicted: np.ndarray


class Served:
    """A loaded surrogate bound to the catalog it reads its proxy features from."""

    def __init__(self, db, name: str):
        self.db = db
        self.name = name
        self.model, self.card = store.load(db.catalog, name)
        self.target = self.card["target"]
        self.features = self.card["features"]["kind"]
        self.proxies = tuple(self.card["features"]["proxies"])
        self.canonical = bool(self.card["features"]["iso_canonical"])

    def check(self, key) -> None:
        """Refuse to answer for a key other than the one the surrogate learned."""
        for field in _MATCH:
            if self.target[field] != getattr(key, field):
                raise SurrogateError(
                    f"surrogate {self.name!r} predicts {field}={self.target[field]}, "
                    f"not {getattr(key, field)} ({key.describe()})"
                )

    def predict(self, indices) -> tuple[np.ndarray, np.ndarray]:
        idx = np.asarray(indices, dtype=np.int64)
        return training.predict_batched(
            self.model, self.db, self.target["space"], self.target["task"], self.features,
            self.proxies, idx, self.canonical,
        )  # fmt: skip


# The iso-aware held-out Kendall tau: on architectures without an isomorphic twin in the
# training set. Cards from before it was recorded have it only where the split was iso.
HONEST_TAU = "coalesce(iso_kendall_tau, CASE WHEN split = 'iso' THEN kendall_tau END)"


def best_for(db, key) -> str:
    """The fitted surrogate of ``key`` with the highest iso-aware held-out Kendall tau.

    A surrogate without a finite one (NaN: e.g. a model that predicts a constant) is not
    eligible. Reads the registry files of the Database's generation rather than the view,
    so that finding one does not bind every view.
    """
    files = [str(p) for p in db.generation.files("surrogates")]
    rows = []
    if files:
        rows = db._con.execute(
            f"SELECT name, {HONEST_TAU} AS tau FROM read_parquet($files, union_by_name = true) "
            "WHERE space = $space AND metric = $metric "
            "AND task IS NOT DISTINCT FROM $task AND device IS NOT DISTINCT FROM $device "
            "AND fidelity IS NOT DISTINCT FROM $fidelity ORDER BY name",
            {"files": files, **{f: getattr(key, f) for f in _MATCH}},
        ).fetchall()
    eligible = [(tau, name) for name, tau in rows if tau is not None and np.isfinite(tau)]
    if eligible:
        return min(eligible, key=lambda r: (-r[0], r[1]))[1]
    device = f" --device {key.device}" if key.device else ""
    fit = f"nasdb surrogate fit {key.space} --task {key.task} --metric {key.metric}{device}"
    if rows:
        raise SurrogateError(
            f"no surrogate of {key.space} {key.describe()} has a finite iso-aware held-out "
            f"Kendall tau ({', '.join(r[0] for r in rows)}), so none is chosen "
            f"automatically; fit one again with: {fit}, or name one"
        )
    raise SurrogateError(
        f"no surrogate is fitted for {key.space} {key.describe()}; fit one with: {fit}"
    )


def served_for(db, key, surrogate: str) -> Served:
    """The surrogate named (or, for ``"auto"``, the best one) checked against ``key``."""
    served = db.surrogate(best_for(db, key) if surrogate == "auto" else surrogate, key.space)
    served.check(key)
    return served


def answer(db, key, column, indices: np.ndarray, surrogate: str) -> Answer:
    """Table values where there are some, the surrogate's prediction elsewhere; an
    architecture the source marks infeasible is an error, never a prediction."""
    served = served_for(db, key, surrogate)
    value = np.array(column[indices], dtype=np.float64)
    std = np.full(len(value), np.nan)
    missing = np.isnan(value)
    if missing.any():
        db.check_feasible(key, indices[missing])
        known = db.known(key.space)
        unknown = missing & ~known[indices]
        if unknown.any():
            bad = int(indices[unknown][0])
            raise LookupMiss(
                f"{key.space}: architecture {db.space(key.space).arch_id(bad)} is not one the "
                "catalog knows, so no surrogate answers for it"
            )
        value[missing], std[missing] = served.predict(indices[missing])
    return Answer(value, std, missing)


def covers(db, key) -> np.ndarray:
    """Mask of the architectures a surrogate of ``key`` may answer for: those the catalog
    knows, less those the source marks infeasible."""
    mask = db.known(key.space).copy()
    mask[db.infeasible(key)] = False
    return mask


def policy(db, keys, surrogate: str) -> SurrogateMiss:
    """The miss policy of a benchmark whose objectives read ``keys`` (at its target
    fidelity). ``surrogate``: ``"auto"`` (the best fitted surrogate of every objective
    that has one) or comma-separated names, each fitted for one of the objectives."""
    served: dict[int, Served] = {}
    for name in [n.strip() for n in surrogate.split(",") if n.strip()]:
        if name == "auto":
            for i, key in enumerate(keys):
                if i not in served:
                    try:
                        served[i] = served_for(db, key, "auto")
                    except SurrogateError:
                        if len(keys) == 1:
                            raise
            if not served:
                raise SurrogateError(
                    "no surrogate is fitted for any objective ("
                    + "; ".join(k.describe() for k in keys)
                    + "); fit one with nasdb surrogate fit"
                )
            continue
        one = db.surrogate(name, keys[0].space)
        matches = [i for i, key in enumerate(keys) if _matches(one, key)]
        if not matches:
            one.check(keys[0])  # says which field differs
            raise SurrogateError(f"surrogate {name!r} predicts none of the objectives")
        served[matches[0]] = one
    mask = np.zeros((len(keys), db.space(keys[0].space).size), dtype=bool)
    for i in served:
        mask[i] = covers(db, keys[i])
    return SurrogateMiss(served, mask, keys[0].fidelity)


def _matches(served: Served, key) -> bool:
    try:
        served.check(key)
    except SurrogateError:
        return False
    return True


class SurrogateMiss:
    """A Benchmark miss policy: at the target fidelity, each objective's surrogate answers
    for the architectures it ``covers`` (the catalog knows them, no source marks them
    infeasible); predictions are kept, so each is made once. ``bench.predicted_std`` is
    the first objective's spread; ``std`` holds every objective's."""

    def __init__(self, served: dict[int, Served], covers: np.ndarray, fidelity):
        self.served = served
        self.covers = covers  # (objectives, size)
        self.fidelity = fidelity
        self.std = np.full(covers.shape, np.nan)

    def __call__(self, bench, missing: np.ndarray, fidelity) -> np.ndarray:
        from nasdb.benchmark import table_only

        cols = bench._columns[fidelity]
        if fidelity != self.fidelity:
            return table_only(bench, missing, fidelity)
        values = cols[:, missing].T.copy()
        blocked = (np.isnan(values) & ~self.covers[:, missing].T).any(axis=1)
        if blocked.any():
            table_only(bench, missing[blocked], fidelity)
        for i, served in self.served.items():
            todo = np.unique(missing[np.isnan(values[:, i])])
            if not len(todo):
                continue
            mean, std = served.predict(todo)
            cols[i, todo] = mean
            self.std[i, todo] = std
            if i == 0:
                bench.predicted_std[todo] = std
            values[:, i] = cols[i, missing]
        return values

    def fill_all(self, bench) -> None:
        """Predict every valid architecture the table lacks, e.g. before the benchmark is
        sent to worker processes (a loaded model does not travel)."""
        cols = bench._columns[self.fidelity]
        todo = bench.valid[np.isnan(cols[:, bench.valid]).any(axis=0)]
        if len(todo):
            self(bench, todo, self.fidelity)
