"""Which metrics may serve as a zero-cost proxy: quantities known before any training.

A proxy is a free fitness estimate an optimizer may read for every architecture, so it
must not leak what the search is meant to find. The allow-list is read from the
catalog's keys, not written by hand: a training-free quantity has no fidelity (no
epochs were trained to measure it), no device (not a hardware measurement of an
objective), and is a unitless score (``''``: naswot, synflow, jacov, ...) or a size in
millions (``'M'``: params, flops). Names that describe a training outcome (accuracies,
losses, perplexities, times, run status) are refused even where a source stores them
without a fidelity (Accel-NASBench's fully trained accuracies, NAS-Bench-NLP's run_ok).
"""

from __future__ import annotations

from collections.abc import Iterable

from nasdb.errors import UnknownName

_UNITS = ("", "M")  # unitless scores; sizes in millions
_TRAINED = ("accuracy", "loss", "perplexity", "error", "time", "run_ok")


def why_not(key) -> str | None:
    """Why the catalog key is no proxy, or None for a training-free quantity."""
    if key.fidelity is not None:
        return f"is measured after {key.fidelity} epochs of training"
    if any(word in key.metric for word in _TRAINED):
        return "is a training outcome or a timing"
    if key.device is not None:
        return f"is a measurement on a device ({key.device})"
    if key.unit not in _UNITS:
        return f"is neither a score nor a size (unit {key.unit!r})"
    return None


def is_training_free(key) -> bool:
    """Whether the catalog key holds a quantity known without training the architecture."""
    return why_not(key) is None


def allowed(keys: Iterable, space: str, task: str | None) -> list[str]:
    """Training-free metrics of one (space, task), sorted."""
    return sorted(
        {k.metric for k in keys if k.space == space and k.task == task and is_training_free(k)}
    )


def check(keys: list, space: str, task: str | None, proxy: str, objectives: Iterable[str]) -> None:
    """Refuse a proxy that needs training, or that is one of the search's objectives."""
    ok = allowed(keys, space, task)
    listed = ", ".join(ok) or "none"
    if proxy in objectives:
        raise UnknownName(
            f"{space}/{task}: --proxy {proxy} is an objective of the search itself; a proxy "
            f"must be a training-free score or size. Training-free proxies of this task: {listed}"
        )
    if proxy not in ok:
        held = [k for k in keys if k.metric == proxy and k.space == space and k.task == task]
        why = why_not(held[0]) if held else "is not in the catalog for this task"
        raise UnknownName(
            f"{space}/{task}: --proxy {proxy} {why}; a proxy must be a training-free score "
            f"or size. Training-free proxies of this task: {listed}"
        )
