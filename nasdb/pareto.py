"""What a run is judged against: the table's optimum, and for several objectives its true
Pareto front, with hypervolume and IGD from pymoo.

Objectives are turned into minimised form (``-sign * value``) and normalised by the true
front's ideal (best value of each objective) and nadir (worst value on the front), so the
front spans [0, 1] in every objective. Hypervolume is measured against the reference point
1.1 in every normalised objective (pymoo's and the common choice: the front's extreme
points still count), so the true front's own hypervolume is the best any run can reach.
IGD is the mean distance from each true-front point to the nearest point found.

A runs table carries these facts per benchmark in its Arrow schema metadata
(:func:`attach`, read back by :func:`facts`), so a stored run is reported without the
catalog that produced it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from nasdb.errors import NasdbError

REFERENCE = 1.1  # per normalised objective
_META = b"nasdb.benchmarks"


def _pymoo():
    try:
        from pymoo.indicators.hv import HV
        from pymoo.indicators.igd import IGD
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting
    except ImportError:
        raise NasdbError(
            "multi-objective indicators need pymoo: pip install 'nasdb[search]'"
        ) from None
    return HV, IGD, NonDominatedSorting


def non_dominated(f: np.ndarray) -> np.ndarray:
    """Rows of minimised ``f`` that no other row dominates (duplicates kept once)."""
    f = np.unique(np.asarray(f, dtype=np.float64), axis=0)
    if len(f) <= 1:
        return f
    _, _, nds = _pymoo()
    return f[nds().do(f, only_non_dominated_front=True)]


@dataclass(frozen=True)
class Front:
    """The true Pareto front of a benchmark, in raw units, and its normalisation."""

    signs: np.ndarray  # +1 maximised, -1 minimised, per objective
    points: np.ndarray  # (k, m) raw values of the front
    ideal: np.ndarray  # (m,) minimised-form bounds of the front
    nadir: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, signs) -> Front:
        """The front of every architecture's raw ``values`` (n, m); NaN rows dropped."""
        signs = np.asarray(signs, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        f = non_dominated(-signs * values[~np.isnan(values).any(axis=1)])
        return cls(signs, -signs * f, f.min(axis=0), f.max(axis=0))

    def normalise(self, values: np.ndarray) -> np.ndarray:
        """Raw values (n, m) to minimised, normalised form: the front spans [0, 1]."""
        span = np.where(self.nadir > self.ideal, self.nadir - self.ideal, 1.0)
        return (-self.signs * np.asarray(values, dtype=np.float64) - self.ideal) / span

    def hv(self, values: np.ndarray) -> float:
        """Hypervolume of raw ``values`` (n, m) up to the reference point."""
        f = self.normalise(np.atleast_2d(values))
        f = f[(f < REFERENCE).all(axis=1)]
        if not len(f):
            return 0.0
        hv, _, _ = _pymoo()
        return float(hv(ref_point=np.full(f.shape[1], REFERENCE))(non_dominated(f)))

    @property
    def best_hv(self) -> float:
        return self.hv(self.points)

    def igd(self, values: np.ndarray) -> float:
        """Mean distance of the true front's points to the nearest of ``values``."""
        _, igd, _ = _pymoo()
        return float(igd(self.normalise(self.points))(self.normalise(np.atleast_2d(values))))

    def anytime_hv(self, values: np.ndarray) -> np.ndarray:
        """Hypervolume of the first t evaluated points, for every t (one value per row)."""
        f = self.normalise(values)
        hv_cls, _, _ = _pymoo()
        indicator = hv_cls(ref_point=np.full(f.shape[1], REFERENCE))
        out = np.zeros(len(f))
        archive = np.zeros((0, f.shape[1]))
        hv = 0.0
        for t, p in enumerate(f):
            inside = bool((p < REFERENCE).all()) and not np.isnan(p).any()
            if inside and not ((archive <= p).all(axis=1)).any():  # p adds volume
                archive = np.vstack([archive[~(p <= archive).all(axis=1)], p])
                hv = float(indicator(archive))
            out[t] = hv
        return out

    def on_front(self, values: np.ndarray) -> int:
        """How many distinct true-front points ``values`` hold."""
        found = {tuple(v) for v in np.asarray(values, dtype=np.float64)}
        return sum(tuple(p) in found for p in self.points)

    def to_json(self) -> dict:
        return {"points": self.points.tolist(), "signs": self.signs.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> Front:
        signs = np.asarray(d["signs"], dtype=np.float64)
        f = -signs * np.asarray(d["points"], dtype=np.float64)
        return cls(signs, np.asarray(d["points"], dtype=np.float64), f.min(axis=0), f.max(axis=0))


def front(bench) -> Front:
    """The true front of a multi-objective benchmark from its table at the target fidelity."""
    cols = bench._columns[bench.fidelity][:, bench.valid]
    return Front.of(cols.T, bench.signs)


def benchmark_facts(bench) -> dict:
    """What reports judge a run on this benchmark against."""
    out = {
        "metrics": list(bench.metrics),
        "directions": list(bench.directions),
        "optimum": bench.optimum(),
        "fidelity": bench.fidelity,
    }
    if bench.n_objectives > 1:
        out["front"] = front(bench).to_json()
    return out


def attach(table, benches):  # (pyarrow.Table, Sequence[Benchmark]) -> pyarrow.Table
    """The runs table with each benchmark's facts in its schema metadata."""
    facts_by_name = {b.describe(): benchmark_facts(b) for b in benches}
    meta = dict(table.schema.metadata or {})
    meta[_META] = json.dumps(facts_by_name).encode()
    return table.replace_schema_metadata(meta)


def with_facts(table, facts_by_name: dict[str, dict]):  # -> pyarrow.Table
    """The runs table with facts as :func:`facts` reads them (e.g. of several merged runs)."""
    meta = dict(table.schema.metadata or {})
    meta[_META] = json.dumps(facts_by_name).encode()
    return table.replace_schema_metadata(meta)


def facts(table) -> dict[str, dict]:
    """The facts :func:`attach` stored (empty for runs stored without them)."""
    meta = getattr(getattr(table, "schema", None), "metadata", None) or {}
    raw = meta.get(_META)
    return json.loads(raw) if raw else {}
