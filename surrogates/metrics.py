"""How well a surrogate ranks and fits held-out architectures."""

from __future__ import annotations

import numpy as np


def sparse_kendall_tau(y: np.ndarray, pred: np.ndarray, decimals: int = 1) -> float:
    """Kendall tau after rounding both sides to ``decimals`` (NAS-Bench-301's sparse tau):
    rank changes smaller than 0.1 of the unit (0.1 % accuracy) do not count."""
    from scipy.stats import kendalltau

    return float(kendalltau(np.round(y, decimals), np.round(pred, decimals)).statistic)


def scores(y, pred) -> dict[str, float]:
    """R², Kendall tau, Spearman rho and sparse Kendall tau of predictions ``pred``."""
    from scipy.stats import kendalltau, spearmanr

    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - ((y - pred) ** 2).sum() / total if total > 0 else float("nan")
    return {
        "r2": float(r2),
        "kendall_tau": float(kendalltau(y, pred).statistic),
        "spearman": float(spearmanr(y, pred).statistic),
        "sparse_kendall_tau": sparse_kendall_tau(y, pred),
    }
