"""Surrogates: models that answer for architectures no table holds.

``REGISTRY`` maps a surrogate name to ``module:class``; classes are imported only when
used, so optional dependencies (onnxruntime, torch) stay optional. Every class has a
scikit-learn-like ``predict`` and a ``provenance()`` record saying where it comes from.
"""

from __future__ import annotations

import importlib

from nasdb.errors import UnknownName

REGISTRY: dict[str, str] = {
    "yahpo_nb301": "nasdb.surrogates.yahpo_nb301:YahpoNB301",
}


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str) -> type:
    if name not in REGISTRY:
        raise UnknownName(f"unknown surrogate {name!r}; available: {', '.join(names())}")
    module, cls = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)
