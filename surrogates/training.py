"""Fitting surrogates from the catalog: select rows with SQL, split, featurize, fit, score.

Everything a fit depends on is written down in its card, so that a surrogate can be traced
to the rows it learned from (their sha256) and the split that held architectures out.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from nasdb.loaders.base import ZC_PROXIES
from nasdb.surrogates import features, metrics, models

from nasdb.errors import SurrogateError, UnknownName

# Scores computable without training: usable as features for every target of a task.
PROXIES = tuple(sorted({*ZC_PROXIES, "logsynflow", "naswot", "nregions"}))
SPLITS = ("random", "iso")
# Metrics that are costs of running a cell: isomorphic cells differ in them (a dead edge
# still runs), so their features describe the cell as it is, not its isomorphism class.
COSTS = ("latency", "energy", "params", "flops", "time", "memory", "power")
SELECT = (
    "SELECT arch_index, value FROM evaluations WHERE space = $space AND metric = $metric "
    "AND task IS NOT DISTINCT FROM $task AND device IS NOT DISTINCT FROM $device "
    "AND fidelity IS NOT DISTINCT FROM $fidelity AND seed IS NOT DISTINCT FROM $seed "
    "AND source = $source AND isfinite(value) ORDER BY arch_index"
)


def default_features(space: str, model: str, given: str | None = None) -> str:
    """Graphs for the GIN; for trees, NB101's flat and path encodings, elsewhere flat."""
    if given:
        return given
    if models.MODELS.get(model, ("", "", ""))[1] == "torch_geometric":
        return "graph"
    return "flat+path" if space == "nb101" else "flat"


@dataclass
class Plan:
    """What to fit: the target key plus model, features and split."""

    key: Any  # nasdb.db.Key
    model: str = "xgb"
    features: str | None = None  # None: the model's default (see default_features)
    proxies: tuple[str, ...] = ()
    train_size: int | None = None  # None: 80 % of the rows
    split: str = "random"
    seed: int = 0
    members: int | None = None
    params: dict = field(default_factory=dict)
    threads: int | None = None
    max_test: int | None = None  # score on a random sample of the held-out rows

    def __post_init__(self) -> None:
        self.features = default_features(self.key.space, self.model, self.features)
        self.proxies = tuple(self.proxies)

    @property
    def feature_label(self) -> str:
        """The features as reports name them: ``flat+synflow,naswot`` with proxies."""
        return self.features + ("+" + ",".join(self.proxies) if self.proxies else "")

    @property
    def canonical(self) -> bool:
        """Describe cells by their isomorphism class: for what they compute, not cost."""
        return not any(word in self.key.metric for word in COSTS)


@dataclass
class Fitted:
    plan: Plan
    model: Any
    card: dict
    train: np.ndarray  # arch indices
    test: np.ndarray
    scores: dict[str, float]


def key_params(key) -> dict:
    return {
        "space": key.space,
        "task": key.task,
        "metric": key.metric,
        "device": key.device,
        "fidelity": key.fidelity,
        "seed": key.seed,
        "source": key.source,
    }


def select(db, key) -> tuple[np.ndarray, np.ndarray]:
    """The measured rows of one key, by architecture index."""
    res = db.sql(SELECT, params=key_params(key)).fetchnumpy()
    return np.asarray(res["arch_index"], dtype=np.int64), np.asarray(res["value"], dtype=float)


def rows_sha256(indices: np.ndarray, values: np.ndarray) -> str:
    order = np.argsort(indices, kind="stable")
    h = hashlib.sha256(np.ascontiguousarray(indices[order], dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(values[order], dtype="<f8").tobytes())
    return h.hexdigest()


def available_proxies(db, key) -> list[str]:
    """Proxies of the key's task that resolve to one column (not split by seed)."""
    have = set(db.metrics(key.space, key.task))
    out = []
    for p in PROXIES:
        if p in have and p != key.metric:
            try:
                db.resolve(key.space, task=key.task, metric=p)
            except UnknownName:
                continue
            out.append(p)
    return out


def check_proxies(db, key, names) -> tuple[str, ...]:
    """``names`` as given, ``("auto",)`` for every proxy the task has; unknown ones fail."""
    names = tuple(names)
    have = available_proxies(db, key)
    if names == ("auto",):
        return tuple(have)
    missing = [p for p in names if p not in have]
    if missing:
        raise SurrogateError(
            f"{key.space}/{key.task}: no proxy {', '.join(missing)}; "
            f"available: {', '.join(have) or 'none'}"
        )
    return names


def proxy_matrix(db, space: str, task, names, indices: np.ndarray) -> np.ndarray | None:
    """Proxy scores as extra features; sign(x)·log1p(|x|) keeps synflow-sized values in
    float32 range without changing any ranking, NaN where the catalog has no score."""
    if not names:
        return None
    cols = []
    for name in names:
        col = np.asarray(db.column(db.resolve(space, task=task, metric=name))[indices], float)
        col[~np.isfinite(col)] = np.nan
        cols.append(np.sign(col) * np.log1p(np.abs(col)))
    return np.stack(cols, axis=1).astype(np.float32)


def inputs(db, space: str, task, kind: str, proxies, indices: np.ndarray, canonical: bool):
    """Model inputs for ``indices``: what both fitting and serving feed a model."""
    extra = proxy_matrix(db, space, task, proxies, indices)
    return features.featurize(db.space(space), indices, kind, extra, canonical)


def iso_groups(db, space: str, indices: np.ndarray) -> np.ndarray:
    """The isomorphism class of each architecture; one of its own where the space (or
    the catalog) names none."""
    iso = db.sql(
        "SELECT arch_index, iso_id FROM architectures WHERE space = $space",
        params={"space": space},
    ).fetchnumpy()
    lookup = dict(zip(iso["arch_index"].tolist(), iso["iso_id"].tolist(), strict=True))
    return np.array(
        [lookup.get(i) or f"#{i}" for i in np.asarray(indices).tolist()], dtype=object
    ).astype(str)


def without_twins(db, space: str, train: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """Mask over ``scored``: the architectures with no isomorphic twin in ``train``.

    A twin computes the same function as a training cell, so predicting it is recall,
    not generalisation; the score on the rest is the honest (iso-aware) one."""
    groups = iso_groups(db, space, np.concatenate([train, scored]))
    return ~np.isin(groups[len(train) :], groups[: len(train)])


def iso_scores(y: np.ndarray, pred: np.ndarray, fresh: np.ndarray) -> dict:
    """Held-out scores on the architectures without a training twin, and how many."""
    share = float(1 - fresh.mean()) if len(fresh) else float("nan")
    scores = metrics.scores(y[fresh], pred[fresh])
    return {"rows": int(fresh.sum()), "twin_fraction": share, **scores}


def split(db, key, indices: np.ndarray, train_size: int | None, how: str, seed: int):
    """Train and held-out indices. ``iso`` keeps every isomorphism class on one side, so
    the held-out score is not flattered by near-copies of training cells."""
    if how not in SPLITS:
        raise SurrogateError(f"unknown split {how!r}; expected one of {', '.join(SPLITS)}")
    n = len(indices)
    size = int(round(0.8 * n)) if train_size is None else int(train_size)
    if not 2 <= size < n:
        raise SurrogateError(
            f"{key.space}/{key.task}/{key.metric}: train size {size} must be between 2 and "
            f"{n - 1} (the key has {n:,} measured architectures)"
        )
    rng = np.random.default_rng(seed)
    if how == "random":
        perm = rng.permutation(indices)
        return np.sort(perm[:size]), np.sort(perm[size:])
    names, inverse = np.unique(iso_groups(db, key.space, indices), return_inverse=True)
    order = rng.permutation(len(names))
    counts = np.bincount(inverse, minlength=len(names))[order]
    take = order[: int(np.searchsorted(np.cumsum(counts), size)) + 1]
    mask = np.isin(inverse, take)
    return indices[mask], indices[~mask]


def fit(db, plan: Plan) -> Fitted:
    """Select, split, featurize and fit; score on the held-out rows; describe it all."""
    key = plan.key
    indices, values = select(db, key)
    if len(indices) < 3:
        raise SurrogateError(f"{key.describe()}: only {len(indices)} measured rows")
    proxies = check_proxies(db, key, plan.proxies)
    plan.proxies = proxies
    features.check(db.space(key.space), plan.features)
    model = models.create(plan.model, plan.members, plan.seed, plan.threads, plan.params)
    if (model.inputs == "graph") != (plan.features == "graph"):
        wants = "graph features" if model.inputs == "graph" else "flat or path features"
        raise SurrogateError(f"{plan.model} reads {wants}, not {plan.features}")
    train, test = split(db, key, indices, plan.train_size, plan.split, plan.seed)
    y_train = values[np.searchsorted(indices, train)]  # select() sorts by arch_index
    started = time.perf_counter()
    model.fit(
        inputs(db, key.space, key.task, plan.features, proxies, train, plan.canonical), y_train
    )
    fit_seconds = time.perf_counter() - started
    scored = test
    if plan.max_test is not None and len(test) > plan.max_test:
        scored = np.sort(np.random.default_rng(plan.seed).choice(test, plan.max_test, False))
    mean, _ = predict_batched(
        model, db, key.space, key.task, plan.features, proxies, scored, plan.canonical
    )
    y_scored = values[np.searchsorted(indices, scored)]
    scores = metrics.scores(y_scored, mean)
    honest = iso_scores(y_scored, mean, without_twins(db, key.space, train, scored))
    card = {
        "target": {**key_params(key), "unit": key.unit},
        "selection": {
            "sql": SELECT,
            "params": key_params(key),
            "measured_rows": len(indices),
            "split": plan.split,
            "split_seed": plan.seed,
            "train_rows": len(train),
            "train_sha256": rows_sha256(train, y_train),
            "held_out_rows": len(test),
            "scored_rows": len(scored),
        },
        "features": {
            "kind": plan.features,
            "proxies": list(proxies),
            "iso_canonical": plan.canonical and features.uses_iso(db.space(key.space)),
        },
        "model": {"kind": plan.model, "hyperparameters": model.hyperparameters()},
        "held_out": scores,
        "held_out_without_twins": honest,
        "fit_seconds": round(fit_seconds, 3),
    }
    return Fitted(plan, model, card, train, test, scores)


def predict_batched(
    model, db, space, task, kind, proxies, indices, canonical: bool, batch: int = 65_536
):
    """Mean and std in batches, so featurizing 400k cells never holds them all at once."""
    means, stds = [], []
    for start in range(0, len(indices), batch):
        part = indices[start : start + batch]
        m, s = model.predict(inputs(db, space, task, kind, proxies, part, canonical))
        means.append(m)
        stds.append(s)
    if not means:
        return np.empty(0), np.empty(0)
    return np.concatenate(means), np.concatenate(stds)
