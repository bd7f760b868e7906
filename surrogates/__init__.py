"""Surrogates: models that answer for architectures no table holds.

Two kinds live here:

- imported surrogates, fitted by others and shipped as files (``REGISTRY``: YAHPO's
  NAS-Bench-301 ONNX model), each with a ``provenance()`` record;
- surrogates nasdb fits on its own tables: ``features`` (flat, path and graph encodings),
  the model families (``xgb``, ``lgb``, ``gin`` on ``base.Ensemble``, listed in
  ``models``), ``training`` (select, split, fit, score), ``evaluation`` (learning
  curves), ``store`` (model files, cards, the ``surrogates`` and ``predictions`` views)
  and ``serving`` (answers for ``lookup`` and ``Benchmark``, marked as predicted).

Classes are imported only when used, so optional dependencies (onnxruntime, xgboost,
lightgbm, torch) stay optional.
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
