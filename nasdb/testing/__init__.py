"""Conformance kits: one checklist each for a loader, an optimizer and a surrogate.

In the spirit of scikit-learn's ``check_estimator``: a contributor who adds a benchmark, an
algorithm or a surrogate calls the matching check from a test and learns whether it keeps the
contracts the rest of nasdb relies on. The kits import lazily so that ``check_loader`` never
pulls in torch.
"""

from importlib import import_module
from typing import Any

_KITS = {
    "check_loader": "nasdb.testing.loaders",
    "check_optimizer": "nasdb.testing.optimizers",
    "check_surrogate": "nasdb.testing.surrogates",
}

__all__ = list(_KITS)


def __getattr__(name: str) -> Any:
    if name not in _KITS:
        raise AttributeError(f"module 'nasdb.testing' has no attribute {name!r}")
    return getattr(import_module(_KITS[name]), name)
