"""Transfer priors: what other tasks and devices say about a target before (and while) it is
measured.

A *setting* is a (task, device) of one space and metric. The prior for a target setting is
built from every other setting of that metric in the catalog, never from the target's own
rows (for a device metric, no setting on the target device; for a task metric, no setting
of the target task), so it is what a researcher facing a new device or dataset would have.

- **zero-shot**: each source is turned into normal scores (ranks mapped through the
  normal quantile, robust to the long low-accuracy tail), and the prior mean is their
  weighted average; the std is the weighted spread across sources. With no target
  measurement the weights are equal; with some, each source weighs by how well it ranks
  them (Spearman, negative agreement counts as none).
- **few-shot** (HELP's setting: k measured target values): a linear model of the target on
  the sources' values and the architecture's op counts, fitted by bounded least squares
  (scipy's ``lsq_linear``): the source weights are non-negative, since a source is the same
  quantity elsewhere, and for costs (latency, energy) so are the op costs, since a
  network's cost adds up over its operations. With 10 samples this beats choosing the
  best-agreeing source and a GIN fitted on the samples alone (see ``nasdb transfer eval``).
  The model with a coefficient per source is ridge-penalised, and the k values weigh by
  their Huber weights, since measurements are heavy-tailed (latency spikes on phones,
  collapsed cells' accuracy). The std is the spread of the same fit over bootstrap
  resamples of the k values.

The prior keeps its source matrix, so :meth:`Prior.update` refits on new measurements
without the database: search algorithms use it that way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from nasdb.errors import NasdbError, UnknownName

MODELS = ("auto", "zero-shot", "few-shot")
FEW_SHOT_MIN = 3  # fewer target values than this: few-shot falls back to zero-shot weights
BOOTSTRAP = 24
HUBER = 1.345  # the Huber constant: 95 % efficiency when the noise is normal
# Few-shot ridge penalties, chosen on HELP's nine source devices alone (each in turn the
# target of the other eight, 10 samples, 20 draws): mean Spearman 0.9281 here, 0.9267-0.9281
# over the grid 0.03-30 for either, 0.9268 for the unpenalised, bagged fit.
SHRINK_SOURCES = 0.3  # source weights towards their mean: an average device
SHRINK_OPS = 3.0  # op costs towards zero: what the sources already say


@dataclass(frozen=True)
class Setting:
    task: str | None
    device: str | None

    def describe(self) -> str:
        return "/".join(x for x in (self.task, self.device) if x is not None) or "-"

    def matches(self, name: str) -> bool:
        """Named by ``name``: its task, its device, or ``task/device``."""
        return name in (self.describe(), self.task, self.device)


@dataclass
class Prior:
    """A mean and std for the target at every architecture index of the space (NaN where the
    catalog knows no source value). ``scale`` is ``"target"`` once fitted to target values
    (few-shot), else ``"normal score"`` (zero-shot: ranks, not units)."""

    space: str
    metric: str
    target: Setting
    direction: str
    model: str
    k: int
    mean: np.ndarray
    std: np.ndarray
    sources: list[Setting]
    weights: np.ndarray
    scale: str
    _values: np.ndarray = field(repr=False)  # (size, n_sources), NaN where unmeasured
    _counts: np.ndarray = field(repr=False)  # (size, n_ops) op counts
    _cost: bool = field(repr=False, default=False)
    seed: int = field(repr=False, default=0)

    @property
    def known(self) -> np.ndarray:
        return np.flatnonzero(~np.isnan(self.mean))

    def score(self) -> np.ndarray:
        """The mean oriented so that higher is more promising; -inf where unknown."""
        sign = 1.0 if self.direction == "max" else -1.0
        return np.where(np.isnan(self.mean), -np.inf, sign * self.mean)

    def best(self, n: int, among: np.ndarray | None = None) -> np.ndarray:
        """The n most promising architectures (of ``among``, if given), best first."""
        pool = self.known if among is None else np.asarray(among, dtype=np.int64)
        s = self.score()[pool]
        keep = np.isfinite(s)
        pool, s = pool[keep], s[keep]
        return pool[np.argsort(-s, kind="stable")[:n]]

    def update(self, observed: Mapping[int, float], model: str = "auto") -> Prior:
        """The prior refitted with target measurements (architecture index -> value)."""
        return _fit(
            self.space,
            self.metric,
            self.target,
            self.direction,
            self.sources,
            self._values,
            self._counts,
            self._cost,
            observed,
            model,
            self.seed,
        )


def settings(db, space: str, metric: str) -> list[Setting]:
    """Every (task, device) of ``metric`` in ``space``."""
    found = {
        Setting(k.task, k.device) for k in db.keys() if k.space == space and k.metric == metric
    }
    return sorted(found, key=lambda s: (s.task or "", s.device or ""))


def dataset_of(task: str | None) -> str | None:
    """The data behind a task: NB201's ``cifar10-valid`` is CIFAR-10 with another split."""
    return task.removesuffix("-valid") if task is not None else None


def _leaks(candidate: Setting, target: Setting, by_device: bool) -> bool:
    """A source on the target device (for a new device), or on the target's data (for a new
    task), would show the target itself (HELP's raspi4 column is HW-NAS-Bench's, say)."""
    if by_device:
        return candidate.device == target.device
    return dataset_of(candidate.task) == dataset_of(target.task)


def build(
    db,
    space: str,
    *,
    task: str | None = None,
    metric: str,
    device: str | None = None,
    observed: Mapping | None = None,
    sources: Sequence[str] | None = None,
    model: str = "auto",
    seed: int = 0,
) -> Prior:
    """See :meth:`nasdb.db.Database.prior`."""
    from nasdb.benchmark import default_direction

    if model not in MODELS:
        raise UnknownName(f"prior model {model!r}; expected one of {', '.join(MODELS)}")
    if space not in db.spaces():
        raise UnknownName(
            f"space {space!r} is not in the catalog; it has: {', '.join(db.spaces())}"
        )
    every = settings(db, space, metric)
    if not every:
        have = ", ".join(db.metrics(space))
        raise UnknownName(f"{space}: no metric {metric!r}; available: {have}")
    tasks = sorted({s.task for s in every if s.task is not None})
    if task is None and len(tasks) == 1:
        task = tasks[0]
    target = Setting(task, device)
    # A metric measured on several devices transfers across devices; on one device (e.g.
    # TransNAS-Bench-101's GPU), across tasks.
    by_device = device is not None and len({s.device for s in every}) > 1
    candidates = [s for s in every if not _leaks(s, target, by_device)]
    if sources is not None:
        wanted = list(sources)
        unknown = [w for w in wanted if not any(s.matches(w) for s in every)]
        if unknown:
            listed = ", ".join(s.describe() for s in every)
            raise UnknownName(f"{space} {metric}: no source setting {unknown[0]!r}; have: {listed}")
        leaking = [w for w in wanted if not any(s.matches(w) for s in candidates)]
        if leaking:
            raise NasdbError(
                f"source {leaking[0]!r} is the target {target.describe()} itself (or shares its "
                f"{'device' if by_device else 'task'}): a prior must not read the target"
            )
        candidates = [s for s in candidates if any(s.matches(w) for w in wanted)]
    if not candidates:
        raise NasdbError(
            f"{space} {metric}: no source for target {target.describe()}: every setting of "
            f"this metric is the target's own {'device' if device else 'task'}"
        )
    values = np.column_stack([_column(db, space, metric, s) for s in candidates])
    keep = ~np.all(np.isnan(values), axis=0)
    candidates = [s for s, k in zip(candidates, keep, strict=True) if k]
    values = values[:, keep]
    sp = db.space(space)
    counts = _op_counts(sp, np.flatnonzero(~np.all(np.isnan(values), axis=1)), sp.size)
    direction = default_direction(metric)
    cost = direction == "min" and bool(np.nanmin(values) >= 0)
    if cost:
        values = _pool_repeats(values, sp, counts)
    return _fit(
        space,
        metric,
        target,
        direction,
        candidates,
        values,
        counts,
        cost,
        observed or {},
        model,
        seed,
        sp,
    )


def _column(db, space: str, metric: str, s: Setting) -> np.ndarray:
    from nasdb.db import _UNSET

    key = db.resolve(
        space, task=s.task, metric=metric, device=s.device if s.device is not None else _UNSET
    )
    return np.asarray(db.column(key)[0 : db.space(space).size], dtype=np.float64)


def _op_counts(sp, indices: np.ndarray, size: int) -> np.ndarray:
    """How often each op occurs in each architecture (from the space's graph form); an op
    count is the natural unit of a network's cost and a coarse one of its accuracy."""
    if not hasattr(sp, "graphs") or not len(indices):
        return np.zeros((size, 0))
    ops, _ = sp.graphs(indices)
    n_ops = int(ops.max()) + 1
    counts = np.zeros((size, n_ops))
    rows = np.repeat(indices, ops.shape[1])
    flat = ops.ravel().astype(np.int64)
    ok = flat >= 0
    np.add.at(counts, (rows[ok], flat[ok]), 1.0)
    varying = counts[indices].std(axis=0) > 0
    return counts[:, varying]


def _pool_repeats(values: np.ndarray, sp, counts: np.ndarray) -> np.ndarray:
    """Each source's cost replaced by its median over the cells that run the same
    operations: one isomorphism class with the same op counts. On NB201's devices their
    measurements are repeats of one quantity (on HELP's phones they differ by a median of
    up to 10 %, and 1 % of Pixel 3's are over 5 times their class median), so their median
    is the better estimate and the few-shot fit learns less of the sources' noise. Repeats
    are told from real differences by their deviations from the class median: noise is
    independent between sources (NB201's devices: median correlation 0.003), real
    differences are shared (TransNAS-Bench-101's tasks, timed on one GPU: 0.27). Sources
    whose deviations correlate (median over pairs 0.1 or more) are kept as measured."""
    import pandas as pd

    if not hasattr(sp, "iso_ids") or values.shape[1] < 2:
        return values
    key = np.column_stack([sp.iso_ids[: len(values)], counts])
    group = np.unique(key, axis=0, return_inverse=True)[1].ravel()
    pooled = pd.DataFrame(values).groupby(group).transform("median").to_numpy(copy=True)
    pooled[np.isnan(values)] = np.nan
    shared = (np.bincount(group)[group] > 1) & ~np.isnan(values).any(axis=1)
    if shared.sum() < 3:
        return values
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef((values[shared] / pooled[shared] - 1).T)
    pairs = corr[np.triu_indices(len(corr), 1)]
    pairs = pairs[np.isfinite(pairs)]
    return pooled if len(pairs) and np.median(pairs) < 0.1 else values


def _normal_scores(values: np.ndarray) -> np.ndarray:
    from scipy.stats import norm, rankdata

    out = np.full_like(values, np.nan)
    for j in range(values.shape[1]):
        ok = ~np.isnan(values[:, j])
        r = rankdata(values[ok, j])
        out[ok, j] = norm.ppf((r - 0.5) / ok.sum())
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return 0.0
    return float(spearmanr(a[ok], b[ok])[0])


def _observed(observed: Mapping, sp, size: int) -> tuple[np.ndarray, np.ndarray]:
    if not observed:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    archs = list(observed)
    idx = np.asarray(sp.indices(archs) if sp is not None else archs, dtype=np.int64)
    y = np.asarray([observed[a] for a in archs], dtype=np.float64)
    if np.isnan(y).any():
        raise NasdbError("observed target values must be numbers, not NaN")
    if len(np.unique(idx)) != len(idx):
        raise NasdbError("observed lists an architecture twice")
    return idx, y


def _fit(
    space, metric, target, direction, sources, values, counts, cost, observed, model, seed, sp=None
) -> Prior:
    size = values.shape[0]
    idx, y = _observed(observed, sp, size)
    scores = _normal_scores(values)
    weights = np.ones(len(sources))
    if len(idx) >= 2:
        weights = np.array(
            [max(_spearman(values[idx, j], y), 0.0) ** 2 for j in range(len(sources))]
        )
        if not weights.any():
            weights = np.ones(len(sources))
    weights = weights / weights.sum()
    have = ~np.isnan(scores)
    wsum = (have * weights).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.nansum(scores * weights, axis=1) / wsum
        spread = np.sqrt(np.nansum(weights * (scores - z[:, None]) ** 2, axis=1) / wsum)
    z[wsum == 0] = np.nan
    spread[wsum == 0] = np.nan
    use_few = model == "few-shot" or (model == "auto" and len(idx) >= FEW_SHOT_MIN)
    if model == "few-shot" and len(idx) < FEW_SHOT_MIN:
        raise NasdbError(
            f"a few-shot prior needs at least {FEW_SHOT_MIN} observed target values; got {len(idx)}"
        )
    if not use_few:
        mean, std, scale, name = z, spread, "normal score", "zero-shot"
    else:
        mean, std = _few_shot(values if cost else scores, z, weights, counts, cost, idx, y, seed)
        scale, name = "target", "few-shot"
    return Prior(
        space,
        metric,
        target,
        direction,
        name,
        len(idx),
        mean,
        std,
        list(sources),
        weights,
        scale,
        values,
        counts,
        cost,
        seed,
    )


def _design(values: np.ndarray, z: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sources scaled to mean 1 (gaps filled from the zero-shot mean, mapped linearly onto
    each source), then op counts, then an intercept."""
    filled = values.copy()
    for j in range(values.shape[1]):
        col = values[:, j]
        gap = np.isnan(col) & ~np.isnan(z)
        if gap.any():
            ok = ~np.isnan(col) & ~np.isnan(z)
            b, a = np.polyfit(z[ok], col[ok], 1) if ok.sum() > 1 else (0.0, np.nanmean(col))
            filled[gap, j] = a + b * z[gap]
    scale = np.nanmean(np.abs(filled), axis=0)
    scale[scale == 0] = 1.0
    return np.column_stack([filled / scale, counts, np.ones(len(values))])


def _huber_weights(x: np.ndarray, y: np.ndarray, lower: np.ndarray, rounds: int = 5) -> np.ndarray:
    """Huber weights of the k target values under a bounded linear fit, by iteratively
    reweighted least squares. Latency on phones and boards is heavy-tailed (on Raspberry
    Pi 4, 1 % of cells run over 5 times slower than others that run the same operations), and
    one such sample among ten would otherwise bend every model."""
    from scipy.optimize import lsq_linear

    w = np.ones(len(y))
    for _ in range(rounds):
        sw = np.sqrt(w)
        c = lsq_linear(x * sw[:, None], y * sw, bounds=(lower, np.inf), method="bvls").x
        r = x @ c - y
        scale = 1.4826 * np.median(np.abs(r - np.median(r)))  # the MAD, as a normal sigma
        if scale <= 1e-12 * np.abs(y).mean():
            break
        w = np.minimum(1.0, HUBER * scale / np.maximum(np.abs(r), 1e-300))
    return w


def _few_shot(values, z, weights, counts, cost, idx, y, seed) -> tuple[np.ndarray, np.ndarray]:
    """Three linear models of the target, averaged with weights 1 / (leave-one-out MSE)^2:
    on every source and the op counts, penalised (below); on the agreement-weighted mix of
    the sources alone (robust when few, noisy values make the first overfit); on that mix
    and the op counts. Each target value weighs by its Huber weight under the
    two-coefficient model, the one with enough residual freedom to tell an outlier. The
    first model has more coefficients than there are samples, so a ridge penalty pulls its
    source weights towards their mean and its op costs towards zero; the std is the spread
    of the three fits over bootstrap resamples of the k values."""
    from scipy.optimize import lsq_linear

    design = _design(values, z, counts)
    n_src, n_ops = values.shape[1], counts.shape[1]
    mix = design[:, :n_src] @ weights
    ones = np.ones(len(design))
    sign = 0.0 if cost else -np.inf  # costs: every coefficient non-negative (a cost adds up)
    models = [
        (design, np.concatenate([np.zeros(n_src), np.full(n_ops + 1, sign)])),
        (np.column_stack([mix, ones]), np.array([0.0, -np.inf])),
        (np.column_stack([mix, counts, ones]), np.concatenate([[0.0], np.full(n_ops + 1, sign)])),
    ]
    known = ~np.isnan(design).any(axis=1)
    root = np.sqrt(_huber_weights(models[1][0][idx], y, models[1][1]))
    # Ridge rows, appended to the samples (the fit is then the same in any unit of the
    # target): the first model's source weights towards their mean and op costs towards
    # zero. For a metric that is no cost, the third model's op coefficients too: accuracy is
    # no sum over operations, and free op coefficients carry a few samples to cells that
    # resemble none of them (collapsed cells ranked among the best).
    shrink_ops = np.sqrt(SHRINK_OPS) * np.eye(n_ops)
    first = np.zeros((n_src + n_ops, design.shape[1]))
    first[:n_src, :n_src] = np.sqrt(SHRINK_SOURCES) * (np.eye(n_src) - 1.0 / n_src)
    first[n_src:, n_src:-1] = shrink_ops
    penalties = {0: first}
    if not cost:
        penalties[2] = np.column_stack([np.zeros(n_ops), shrink_ops, np.zeros(n_ops)])

    def coef(m: int, rows: np.ndarray) -> np.ndarray:
        x, lower = models[m]
        x, target = x[idx[rows]] * root[rows, None], y[rows] * root[rows]
        if m in penalties:
            x = np.vstack([x, penalties[m]])
            target = np.concatenate([target, np.zeros(len(penalties[m]))])
        return lsq_linear(x, target, bounds=(lower, np.inf), method="bvls").x

    everything = np.arange(len(idx))
    trust = np.square(root)
    errors = []
    for m, (x, _) in enumerate(models):
        loo = [x[idx[i]] @ coef(m, np.delete(everything, i)) - y[i] for i in everything]
        errors.append(max(float(np.average(np.square(loo), weights=trust)), 1e-12))
    share = 1.0 / np.square(errors)

    def predict(rows: np.ndarray) -> np.ndarray:
        fits = [x[known] @ coef(m, rows) for m, (x, _) in enumerate(models)]
        out = np.full(len(design), np.nan)
        out[known] = np.average(fits, axis=0, weights=share)
        return out

    rng = np.random.default_rng(seed)
    spread = np.stack([predict(rng.integers(0, len(idx), len(idx))) for _ in range(BOOTSTRAP)])
    return predict(everything), spread.std(axis=0)


def attach(db, bench, spec) -> None:
    """Give a Benchmark a prior for its first objective: ``spec`` is ``"zero-shot"`` (or
    ``"auto"``), ``"few-shot:K"`` (optimizers first measure K random architectures and
    refit the prior on them) or a :class:`Prior`."""
    shots = 0
    if isinstance(spec, str):
        kind, _, k = spec.partition(":")
        if kind == "few-shot" and k.isdigit() and int(k) >= FEW_SHOT_MIN:
            shots = int(k)
        elif spec not in ("auto", "zero-shot"):
            raise UnknownName(
                f"--prior {spec!r}: expected auto, zero-shot or few-shot:K with K >= {FEW_SHOT_MIN}"
            )
        first = bench.objectives[0]
        spec = build(
            db,
            bench.space_name,
            task=bench.task,
            metric=first.metric,
            device=first.device,
            model="zero-shot",
        )
    elif not isinstance(spec, Prior):
        raise UnknownName(f"prior must be a name or a nasdb.transfer.Prior; got {spec!r}")
    bench.prior = spec
    bench.prior_shots = shots
