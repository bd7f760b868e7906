"""Search on one metric, report another: the protocol published benchmarks are run under.

NAS-Bench-201 (Dong & Yang, ICLR 2020) and NATS-Bench (Dong et al., TPAMI 2021) search on
the validation accuracy of the 12-epoch schedule ("hp=12"), one random training seed per
query, under a simulated time budget, and report the 200-epoch test accuracy of the cell
the search chose. Selecting on the reported test numbers would be selection on the test
set, so that needs an explicit ``search_on_test``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasdb.errors import NasdbError, UnknownName


@dataclass(frozen=True)
class Protocol:
    objective: str
    fidelity: int
    reported: str
    reported_fidelity: int


PROTOCOLS = {"nb201": Protocol("valid_accuracy", 12, "test_accuracy", 200)}

UNSOUND = (
    "searching on {metric} selects the architecture on the very numbers that are "
    "reported ({reported}), i.e. on the test set, which overstates what a search finds; "
    "search on a validation metric (default: {default}) or pass --search-on-test "
    "(search_on_test=True) to do it anyway"
)


def protocol_of(space: str) -> Protocol | None:
    return PROTOCOLS.get(space)


def default_source(db, space: str, task: str | None, metric: str, fidelity: int) -> str | None:
    """The source holding the objective at that fidelity for the most architectures, so a
    partial table at another fidelity does not shrink the searched set."""
    rows = [
        k
        for k in db.keys()
        if k.space == space and k.task == task and k.metric == metric and k.fidelity == fidelity
    ]
    if not rows:
        return None
    counts = {
        k.source: int(np.count_nonzero(~np.isnan(np.asarray(db.column(k), dtype=float))))
        for k in rows
        if k.seed is None
    }
    return max(counts, key=counts.get) if counts else None


def check_sound(space, metrics, fidelity, report_metric, report_fidelity, search_on_test):
    """Refuse selection on the reported (test) values unless asked for explicitly."""
    if report_metric is None or search_on_test:
        return
    same_fid = fidelity is None or report_fidelity is None or fidelity == report_fidelity
    if report_metric in metrics and same_fid:
        proto = protocol_of(space)
        default = f"{proto.objective} at {proto.fidelity} epochs" if proto else "valid_accuracy"
        at = f" at {report_fidelity} epochs" if report_fidelity is not None else ""
        raise NasdbError(
            UNSOUND.format(metric=report_metric, reported=report_metric + at, default=default)
        )


def attach_reported(db, bench, metric: str, fidelity) -> None:
    """Give ``bench`` the reported metric's column (read at ``fidelity``, or its highest)."""
    from nasdb.db import _UNSET

    dev = next((o.device for o in bench.objectives if o.device), None)
    devices = {k.device for k in db.keys() if k.space == bench.space_name and k.metric == metric}
    key = db.resolve(
        bench.space_name,
        task=bench.task,
        metric=metric,
        fidelity=_UNSET if fidelity is None else fidelity,
        device=dev if dev in devices else _UNSET,
    )
    col = db.column(key)
    if not isinstance(col, np.ndarray):
        raise NasdbError(f"{bench.space_name}: a reported metric needs a dense column")
    bench.reported_metric = metric
    bench.reported_fidelity = key.fidelity
    bench.reported_column = col


def attach_seeds(db, bench) -> None:
    """Per-seed values of the first objective at the target fidelity: each query then
    draws one seed's value, as the NB201/NATS API does with ``is_random=True``."""
    obj = bench.objectives[0]
    keys = [
        k
        for k in db.keys()
        if k.space == bench.space_name
        and k.task == bench.task
        and k.metric == obj.metric
        and k.fidelity == bench.fidelity
        and k.device == obj.device
        and k.seed is not None
    ]
    if not keys:
        have = sorted(
            {
                f"{k.metric}@{k.fidelity} ({k.source})"
                for k in db.keys()
                if k.space == bench.space_name and k.task == bench.task and k.seed is not None
            }
        )
        raise UnknownName(
            f"{bench.describe()}: the catalog holds no per-seed values of this objective; "
            f"per-seed values here: {', '.join(have) or 'none'} (NB201 per-seed values come "
            "from the NATS-Bench archive: nasdb ingest nb201_nats_tss --source DIR)"
        )
    source = max({k.source for k in keys}, key=lambda s: sum(k.source == s for k in keys))
    cols = [np.asarray(db.column(k), dtype=float) for k in keys if k.source == source]
    bench.seed_columns = np.vstack(cols)


class SeedDraws:
    """Draws one seed's value per query, from a generator seeded by the run seed."""

    def __init__(self, columns: np.ndarray, seed: int):
        self.columns = columns
        self.rng = np.random.default_rng([seed, 0x5EED])

    def __call__(self, index: int) -> float:
        vals = self.columns[:, index]
        vals = vals[~np.isnan(vals)]
        if not len(vals):
            return float("nan")
        return float(vals[self.rng.integers(len(vals))])


def incumbent_reported(bench, arch: np.ndarray, best: np.ndarray) -> np.ndarray:
    """The reported value of the incumbent (first trial to reach the best objective so
    far) after each trial; NaN before any trial at the target fidelity."""
    col = getattr(bench, "reported_column", None)
    n = len(arch)
    if col is None or not n:
        return np.full(n, np.nan)
    prev = np.concatenate([[np.nan], best[:-1]])
    improved = ~np.isnan(best) & (np.isnan(prev) | (best != prev))
    pos = np.where(improved, np.arange(n), -1)
    pos = np.maximum.accumulate(pos)
    return np.where(pos >= 0, col[arch[np.clip(pos, 0, None)]], np.nan)


def benchmark(db, space, task, metric=None, *, fidelity=None, report_metric=None,
              report_fidelity=None, source=None, **kwargs):  # fmt: skip
    """``db.benchmark`` with the space's published protocol filling what is not given:
    NB201 searches on valid_accuracy at 12 epochs and reports test_accuracy at 200."""
    from nasdb.db import _UNSET

    fidelity = _UNSET if fidelity is None else fidelity
    report_fidelity = _UNSET if report_fidelity is None else report_fidelity
    proto = protocol_of(space)
    have = {
        (k.metric, k.fidelity) for k in db.keys() if k.space == space and k.task == task
    }
    if metric is None:
        metric = "test_accuracy"
        if proto and (proto.objective, proto.fidelity) in have:
            metric = proto.objective
            if fidelity is _UNSET or fidelity == proto.fidelity:
                fidelity = proto.fidelity
                source = source or default_source(db, space, task, metric, proto.fidelity)
    if report_metric is None and proto and (proto.reported, proto.reported_fidelity) in have:
        report_metric = proto.reported
        if report_fidelity is _UNSET:
            report_fidelity = proto.reported_fidelity
    return db.benchmark(
        space,
        task,
        metric,
        fidelity=fidelity,
        source=source,
        report_metric=report_metric,
        report_fidelity=report_fidelity,
        **kwargs,
    )
