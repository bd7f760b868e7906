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


def best_for(db, key) -> str:
    """The fitted surrogate of ``key`` with the highest held-out Kendall tau.

    Reads the registry files of the Database's generation rather than the view, so that
    finding one does not bind every view.
    """
    files = [str(p) for p in db.generation.files("surrogates")]
    rows = []
    if files:
        rows = db._con.execute(
            "SELECT name FROM read_parquet($files) WHERE space = $space AND metric = $metric "
            "AND task IS NOT DISTINCT FROM $task AND device IS NOT DISTINCT FROM $device "
            "AND fidelity IS NOT DISTINCT FROM $fidelity ORDER BY kendall_tau DESC, name LIMIT 1",
            {"files": files, **{f: getattr(key, f) for f in _MATCH}},
        ).fetchall()
    if not rows:
        raise SurrogateError(
            f"no surrogate is fitted for {key.space} {key.describe()}; "
            f"fit one with: nasdb surrogate fit {key.space} --task {key.task} --metric {key.metric}"
            + (f" --device {key.device}" if key.device else "")
        )
    return rows[0][0]


def served_for(db, key, surrogate: str) -> Served:
    """The surrogate named (or, for ``"auto"``, the best one) checked against ``key``."""
    served = db.surrogate(best_for(db, key) if surrogate == "auto" else surrogate, key.space)
    served.check(key)
    return served


def answer(db, key, column, indices: np.ndarray, surrogate: str) -> Answer:
    """Table values where there are some, the surrogate's prediction elsewhere."""
    served = served_for(db, key, surrogate)
    value = np.array(column[indices], dtype=np.float64)
    std = np.full(len(value), np.nan)
    missing = np.isnan(value)
    if missing.any():
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


class SurrogateMiss:
    """A Benchmark miss policy: the surrogate answers the first objective at its fidelity
    for architectures the catalog knows; predictions are kept, so each is made once."""

    def __init__(self, served: Served, covers: np.ndarray, fidelity):
        self.served = served
        self.covers = covers
        self.fidelity = fidelity

    def __call__(self, bench, missing: np.ndarray, fidelity) -> np.ndarray:
        from nasdb.benchmark import table_only

        cols = bench._columns[fidelity]
        if fidelity != self.fidelity:
            return table_only(bench, missing, fidelity)
        values = cols[:, missing].T.copy()
        blocked = np.isnan(values[:, 1:]).any(axis=1) | ~self.covers[missing]
        if blocked.any():
            table_only(bench, missing[blocked], fidelity)
        todo = np.unique(missing[np.isnan(values[:, 0])])
        mean, std = self.served.predict(todo)
        cols[0, todo] = mean
        bench.predicted_std[todo] = std
        values[:, 0] = cols[0, missing]
        return values

    def fill_all(self, bench) -> None:
        """Predict every valid architecture the table lacks, e.g. before the benchmark is
        sent to worker processes (a loaded model does not travel)."""
        todo = bench.valid[np.isnan(bench._columns[self.fidelity][0, bench.valid])]
        if len(todo):
            self(bench, todo, self.fidelity)
