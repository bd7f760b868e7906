"""How well a surrogate ranks and fits held-out architectures."""

from __future__ import annotations

import numpy as np


def sparse_kendall_tau(y: np.ndarray, pred: np.ndarray, decimals: int = 1) -> float:
    """Kendall tau after rounding both sides to ``decimals`` (NAS-Bench-301's sparse tau):
    rank changes smaller than 0.1 of the unit (0.1 % accuracy) do not count."""
    from scipy.stats import kendalltau

    return float(kendalltau(np.round(y, decimals), np.round(pred, decimals)).statistic)


def scores(y, pred) -> dict[str, float]:
    """R², Kendall tau, Spearman rho and sparse Kendall tau of predictions ``pred``; NaN
    where a side is constant or has fewer than two values (there is no ranking to score)."""
    from scipy.stats import kendalltau, spearmanr

    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    total = ((y - y.mean()) ** 2).sum() if len(y) else 0.0
    r2 = 1.0 - ((y - pred) ** 2).sum() / total if total > 0 else float("nan")
    if len(y) < 2 or np.ptp(y) == 0 or np.ptp(pred) == 0:
        ranks = dict.fromkeys(("kendall_tau", "spearman", "sparse_kendall_tau"), float("nan"))
        return {"r2": float(r2), **ranks}
    return {
        "r2": float(r2),
        "kendall_tau": float(kendalltau(y, pred).statistic),
        "spearman": float(spearmanr(y, pred).statistic),
        "sparse_kendall_tau": sparse_kendall_tau(y, pred),
    }


def noise_ceiling(first, second, seed: int = 0) -> float:
    """The Kendall tau against ``first`` that even a perfect surrogate could not beat,
    estimated from a second measurement of the same architectures.

    A surrogate predicts the noise-free value, and that value ranks a noisy measurement
    only as well as the noise allows. Model: each measurement is the value plus
    independent noise drawn from one distribution, shaped like the two measurements'
    differences. Its scale is set so that two simulated measurements agree (in tau) as
    well as the real pair does; the ceiling is then the tau between the value and one
    simulated measurement.
    """
    from scipy.optimize import brentq
    from scipy.stats import kendalltau

    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    observed = float(kendalltau(a, b).statistic)
    if not 0 < observed < 1:
        return observed if observed >= 1 else float("nan")
    rng = np.random.default_rng(seed)
    value, diff = (a + b) / 2, (a - b) / np.sqrt(2)
    noise1, noise2 = rng.permutation(diff), rng.permutation(diff)

    def excess(scale: float) -> float:
        return kendalltau(value + scale * noise1, value + scale * noise2).statistic - observed

    high = 1.0
    while excess(high) > 0:  # tau falls to 0 as the noise grows, so this ends
        high *= 2
    scale = brentq(excess, 0.0, high, xtol=1e-4)
    return float(kendalltau(value, value + scale * noise1).statistic)
