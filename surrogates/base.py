"""The contract every trainable surrogate keeps, and the ensemble behind its ``std``.

A model is ``fit(X, y)`` then ``predict(X) -> (mean, std)``: ``members`` copies trained
with different seeds (and row/column subsampling), the mean their average, the std their
spread, which is the uncertainty that serving reports with each predicted value.

A fit that learned nothing is refused rather than stored: a member that predicts one
value for every training architecture would serve a constant, and members that all agree
exactly would serve a spread of zero as if it were certainty.
Subclasses say how one member is trained, predicts, and is written to and read from a
file; files are the libraries' own safe formats (XGBoost UBJSON, LightGBM text, torch
tensors), never pickles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nasdb.errors import SurrogateError


class Ensemble:
    kind: ClassVar[str]  # the name the CLI and model cards use: xgb, lgb, gin
    inputs: ClassVar[str] = "vector"  # "vector" (a 2-D array) or "graph" (GraphInputs)
    suffix: ClassVar[str]  # member file extension
    defaults: ClassVar[dict[str, Any]] = {}  # hyperparameters
    default_members: ClassVar[int] = 5
    small_data_hint: ClassVar[str] = ""  # what else to try when a fit is degenerate

    def __init__(
        self, members: int | None = None, seed: int = 0, threads: int | None = None, **params
    ):
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise SurrogateError(
                f"{self.kind}: unknown hyperparameter(s) {', '.join(sorted(unknown))}; "
                f"expected some of {', '.join(sorted(self.defaults))}"
            )
        members = self.default_members if members is None else members
        if members < 1:
            raise SurrogateError(f"{self.kind}: members must be at least 1, got {members}")
        self.members = members
        self.seed = seed
        self.threads = threads  # None: the family's own choice (trees: all cores; GIN: one)
        self.params = {**self.defaults, **params}
        self.given = set(params)  # hyperparameters the caller chose (the rest may adapt)
        self._fitted: list = []

    # to implement -----------------------------------------------------------------------
    def _fit_one(self, X, y: np.ndarray, seed: int):
        raise NotImplementedError

    def _predict_one(self, member, X) -> np.ndarray:
        raise NotImplementedError

    def _save_one(self, member, path: Path) -> None:
        raise NotImplementedError

    def _load_one(self, path: Path):
        raise NotImplementedError

    # the contract -----------------------------------------------------------------------
    def fit(self, X, y) -> Ensemble:
        y = np.asarray(y, dtype=np.float64)
        if len(y) != len(X) or len(y) < 2:
            raise SurrogateError(f"{self.kind}: need matching X and y with 2+ rows")
        if not np.isfinite(y).all():
            raise SurrogateError(f"{self.kind}: targets must be finite")
        if np.ptp(y) == 0:
            raise SurrogateError(
                f"{self.kind}: all {len(y)} training targets are {y[0]:.6g}; nothing to learn"
            )
        self._fitted = [self._fit_one(X, y, self.seed + m) for m in range(self.members)]
        self._check_learned(X, len(y))
        return self

    def _check_learned(self, X, rows: int) -> None:
        """Refuse a member that predicts a constant on its own training rows, and an
        ensemble whose members are all the same function (their spread would be 0)."""
        each = np.stack([self._predict_one(m, X) for m in self._fitted]).astype(np.float64)
        advice = f"give it more rows (train_size){self.small_data_hint}"
        for m, pred in enumerate(each):
            if np.ptp(pred) <= 1e-9 * max(1.0, float(np.abs(pred).max())):
                raise SurrogateError(
                    f"{self.kind}: member {m} predicts one value ({pred[0]:.6g}) for all "
                    f"{rows} training architectures, so it learned nothing; {advice}"
                )
        if self.members > 1 and np.allclose(each, each[0], rtol=0, atol=1e-12):
            raise SurrogateError(
                f"{self.kind}: all {self.members} members are the same function, so their "
                f"spread (the std served with each prediction) means nothing; use row or "
                "column subsampling, or members=1"
            )

    def predict(self, X) -> tuple[np.ndarray, np.ndarray]:
        if not self._fitted:
            raise SurrogateError(f"{self.kind}: predict before fit")
        if not len(X):
            return np.empty(0), np.empty(0)
        each = np.stack([self._predict_one(m, X) for m in self._fitted]).astype(np.float64)
        return each.mean(axis=0), each.std(axis=0)

    def hyperparameters(self) -> dict[str, Any]:
        return {"members": self.members, "seed": self.seed, **self.params}

    def save(self, directory: Path) -> list[str]:
        """Write one file per member into ``directory``; returns their names."""
        files = []
        for m, member in enumerate(self._fitted):
            name = f"member-{m}{self.suffix}"
            self._save_one(member, Path(directory) / name)
            files.append(name)
        return files

    @classmethod
    def load(cls, directory: Path, files: list[str], hyperparameters: dict) -> Ensemble:
        hp = dict(hyperparameters)
        model = cls(members=hp.pop("members"), seed=hp.pop("seed"), **hp)
        model._fitted = [model._load_one(Path(directory) / f) for f in files]
        return model
