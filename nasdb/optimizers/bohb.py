"""BOHB (Falkner et al. 2018): Hyperband brackets over the benchmark's fidelities whose new
architectures come from a TPE-style density model instead of uniform sampling.

Per fidelity, once it holds more observations than choices, the best ``top_n_percent``
are "good" and the rest "bad"; each is a product of Aitchison-Aitken kernels over the
categorical choices, with bandwidths by the normal reference rule. ``num_samples``
candidates are drawn around good points (bandwidths widened by ``bandwidth_factor``) and
the one maximising good/bad density is evaluated; a ``random_fraction`` stays uniform.
Defaults follow the NAS-Bench-201/NATS-Bench runs (num_samples 4, random_fraction 0,
bandwidth_factor 3; AutoDL-Projects, exps/NATS-algos/run-all.sh). With one fidelity the
brackets degenerate to one rung and BOHB is model-based search with a TPE acquisition.
"""

from __future__ import annotations

import math

import numpy as np

from nasdb.benchmark import Problem
from nasdb.optimizers import categorical
from nasdb.optimizers.successive_halving import Hyperband


class BOHB(Hyperband):
    name = "bohb"
    needs_encoding = True

    def __init__(
        self,
        problem: Problem,
        seed: int = 0,
        eta: float = 3,
        n: int = 27,
        top_n_percent: float = 15,
        num_samples: int = 4,
        random_fraction: float = 0.0,
        bandwidth_factor: float = 3,
        min_bandwidth: float = 1e-3,
    ):
        super().__init__(problem, seed, eta, n)
        if not self.rungs:  # no fidelities: one rung at the benchmark's only value
            self.rungs = [problem.fidelity]
        self._plan = self._brackets()
        self.top, self.num_samples = top_n_percent / 100, num_samples
        self.random_fraction, self.bw_factor, self.min_bw = (
            random_fraction,
            bandwidth_factor,
            min_bandwidth,
        )
        self.sizes = np.array(problem.groups)
        self.obs: dict = {}  # fidelity -> ({index: fitness})
        self._asked_fid: dict[int, object] = {}

    @classmethod
    def check(cls, problem: Problem, describe: str) -> None:
        if len(problem.fidelities) > 1:  # one fidelity is fine: model-based search alone
            super().check(problem, describe)
        else:
            cls.check_space(problem, describe)

    # density model ---------------------------------------------------------------------
    def _bandwidths(self, x: np.ndarray) -> np.ndarray:
        n, d = x.shape
        sd = x.std(axis=0) if n > 1 else np.ones(d)
        bw = 1.06 * sd * n ** (-1 / (4 + d))
        cap = (self.sizes - 1) / self.sizes  # a kernel never favours another choice
        return np.clip(bw, self.min_bw, cap)

    def _density(self, x: np.ndarray, data: np.ndarray, bw: np.ndarray) -> np.ndarray:
        same = x[:, None, :] == data[None, :, :]
        k = np.where(same, 1 - bw, bw / (self.sizes - 1))
        return np.prod(k, axis=2).mean(axis=1)

    def _model_sample(self) -> int | None:
        """An architecture from the model of the highest fidelity that has one."""
        for fid in sorted(self.obs, key=lambda f: -1 if f is None else f, reverse=True):
            seen = self.obs[fid]
            d = len(self.sizes)
            if len(seen) < d + 2:
                continue
            idx = np.fromiter(seen, dtype=np.int64)
            fit = np.fromiter(seen.values(), dtype=float)
            order = np.argsort(-fit, kind="stable")
            n_good = max(d + 1, math.floor(self.top * len(idx)))
            n_bad = max(d + 1, len(idx) - n_good)
            x = categorical.codes(self.problem, idx[order])
            good, bad = x[:n_good], x[-n_bad:]
            bw_good, bw_bad = self._bandwidths(good), self._bandwidths(bad)
            wide = np.clip(bw_good * self.bw_factor, self.min_bw, (self.sizes - 1) / self.sizes)
            centre = good[self.rng.integers(len(good), size=self.num_samples)]
            keep = self.rng.random(centre.shape) < 1 - wide
            other = (centre + 1 + self.rng.integers(0, self.sizes - 1, size=centre.shape)) % (
                self.sizes
            )
            cand = np.where(keep, centre, other)
            score = self._density(cand, good, bw_good) / np.maximum(
                self._density(cand, bad, bw_bad), 1e-32
            )
            return categorical.index(self.problem, cand[int(np.argmax(score))], self.rng)
        return None

    def _new(self) -> int:
        if self.rng.random() >= self.random_fraction:
            found = self._model_sample()
            if found is not None:
                return found
        return int(self.problem.sample(self.rng, 1)[0])

    def _distinct(self, n: int) -> list[int]:
        picked: dict[int, None] = {}
        for _ in range(50 * n):
            if len(picked) >= min(n, self.problem.n_valid):
                break
            picked[self._new()] = None
        return list(picked)

    # ask/tell ----------------------------------------------------------------------------
    def ask(self):
        if len(self.rungs) == 1:  # one fidelity: refit and propose one at a time
            index = self._new()
            return index, self.rungs[0]
        index, fid = super().ask()
        self._asked_fid[index] = fid
        return index, fid

    def tell(self, index: int, fitness: float) -> None:
        fid = self._asked_fid.pop(index, self.rungs[0]) if len(self.rungs) > 1 else self.rungs[0]
        self.obs.setdefault(fid, {})[index] = fitness
        if len(self.rungs) > 1:
            super().tell(index, fitness)
