"""LightGBM regression trees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nasdb.surrogates.base import Ensemble


class LGB(Ensemble):
    kind = "lgb"
    # 3 x 100 trees keep prediction above 100,000 cells/s on 2 cores; 300 trees at a
    # learning rate of 0.1 rank about 0.005-0.015 Kendall tau better at a third the speed.
    default_members = 3
    suffix = ".txt"
    defaults = {
        "n_estimators": 100,
        "num_leaves": 31,
        "learning_rate": 0.3,
        "min_data_in_leaf": 5,
        "bagging_fraction": 0.8,
        "feature_fraction": 0.8,
    }
    small_data_hint = " or a smaller min_data_in_leaf"

    def fit(self, X, y):
        # A node splits only if both sides keep min_data_in_leaf of the bagged rows, so on
        # few rows the default allows no split at all and a member is a constant (about
        # half the fits on 10 NB201 cells). Unless chosen, it shrinks with the rows.
        if "min_data_in_leaf" not in self.given:
            self.params["min_data_in_leaf"] = min(
                self.defaults["min_data_in_leaf"], max(1, len(y) // 4)
            )
        return super().fit(X, y)

    def _fit_one(self, X, y, seed):
        import lightgbm as lgb

        params = {k: v for k, v in self.params.items() if k != "n_estimators"}
        params.update(
            objective="regression",
            bagging_freq=1,
            seed=seed,
            deterministic=True,
            force_row_wise=True,
            verbosity=-1,
        )
        if self.threads:
            params["num_threads"] = self.threads
        data = lgb.Dataset(np.asarray(X, dtype=np.float32), label=y, params={"verbosity": -1})
        return lgb.train(params, data, num_boost_round=self.params["n_estimators"])

    def _predict_one(self, member, X):
        return member.predict(np.asarray(X, dtype=np.float32))

    def _save_one(self, member, path: Path):
        member.save_model(str(path))

    def _load_one(self, path: Path):
        import lightgbm as lgb

        return lgb.Booster(model_file=str(path))
