"""Every surrogate through the conformance kit ``check_surrogate`` on real NB201 cells, and
the kit itself against model families that each break one contract."""

from __future__ import annotations

import numpy as np
import pytest
from nasdb.surrogates import models
from nasdb.surrogates.lgb import LGB

from nasdb.testing import check_surrogate

# Small settings keep each check to seconds; every family the registry lists needs one.
SETTINGS = {
    "xgb": {"members": 2, "threads": 1, "params": {"n_estimators": 50}},
    "lgb": {"members": 2, "threads": 1, "params": {"n_estimators": 50}},
    "gin": {"members": 2, "threads": 1, "params": {"epochs": 3, "hidden": 16}},
}
IMPORTED = ["fit/predict", "deterministic", "reload", "batch independent", "damaged files"]


@pytest.mark.parametrize("kind", [*models.MODELS, "yahpo_nb301"])
def test_surrogate_keeps_the_contracts(db, shared_data, kind):
    if kind == "yahpo_nb301":
        pytest.importorskip("onnxruntime")
        from nasdb.surrogates.yahpo_nb301 import YahpoNB301

        assert check_surrogate(YahpoNB301(shared_data)) == IMPORTED
        return
    if kind == "gin":
        pytest.importorskip("torch_geometric")
    done = check_surrogate(models.create(kind, **SETTINGS[kind]), db)
    assert done == ["fit/predict", "degenerate fits", "seeded", "store reload"]


# the kit catches what it promises to catch ----------------------------------------------------
class Unseeded(LGB):
    """Each member draws its own seed: two fits with one seed differ."""

    def _fit_one(self, X, y, seed):
        return super()._fit_one(X, y, int(np.random.default_rng().integers(1 << 30)))


class Credulous(LGB):
    """Keeps a fit that learned nothing."""

    def _check_learned(self, X, rows: int) -> None:
        pass


@pytest.mark.parametrize(
    ("cls", "needle"),
    [
        (Unseeded, "seeded: seed 0 fitted two different models"),
        (Credulous, "degenerate fits: identical inputs: was accepted"),
    ],
)
def test_the_kit_catches_a_broken_surrogate(db, cls, needle):
    with pytest.raises(AssertionError, match=needle):
        check_surrogate(cls(members=2, threads=1, n_estimators=20), db, fresh_process=False)
