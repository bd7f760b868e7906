"""Exact expected best-so-far of random search, from the table alone (order statistics).

With the N values sorted ascending, the best of k uniform draws is the i-th value with
probability ((i/N)^k - ((i-1)/N)^k) when drawing with replacement, and C(i-1, k-1) / C(N, k)
without. Ties need no care: equal values are just different items.
"""

from __future__ import annotations

import numpy as np


def expected_best(values: np.ndarray, k_max: int, replace: bool, maximise: bool = True):
    """E[best of the first k draws] for k = 1..k_max, as an array of length k_max."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    if not maximise:
        v = -v[::-1]
    n = len(v)
    ks = np.arange(1, k_max + 1)
    i = np.arange(1, n + 1)
    if replace:
        cdf = (i[None, :] / n) ** ks[:, None]
        prev = ((i[None, :] - 1) / n) ** ks[:, None]
        out = ((cdf - prev) * v[None, :]).sum(axis=1)
    else:
        if k_max > n:
            raise ValueError(f"cannot draw {k_max} of {n} without replacement")
        log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])  # log(m!)

        def log_comb(a, b):
            return log_fact[a] - log_fact[b] - log_fact[a - b]

        out = np.empty(k_max)
        for k in ks:
            ii = i[i >= k]
            w = np.exp(log_comb(ii - 1, k - 1) - log_comb(n, k))
            out[k - 1] = (w * v[ii - 1]).sum()
    return out if maximise else -out
