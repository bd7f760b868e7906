"""Architectures as one categorical choice per one-hot group (NB201: an op per edge), the
view REINFORCE's policy and BOHB's density model work in."""

from __future__ import annotations

import numpy as np

from nasdb.benchmark import Problem


def codes(problem: Problem, indices) -> np.ndarray:
    """(n, groups) the choice made in each group."""
    x = problem.encode(np.atleast_1d(np.asarray(indices, dtype=np.int64)))
    bounds = np.cumsum((0, *problem.groups))
    return np.stack(
        [x[:, a:b].argmax(axis=1) for a, b in zip(bounds[:-1], bounds[1:], strict=True)], axis=1
    )


def index(problem: Problem, choice, rng: np.random.Generator) -> int:
    """The architecture making these choices (a random valid one where they make none)."""
    scores = np.concatenate(
        [np.eye(k)[c] for k, c in zip(problem.groups, choice, strict=True)]
    )
    return problem.decode(scores, rng)
