"""The trainable surrogate families, imported on first use so their libraries stay optional."""

from __future__ import annotations

import importlib

from nasdb.errors import SurrogateError

MODELS = {
    "xgb": ("nasdb.surrogates.xgb:XGB", "xgboost", "surrogates"),
    "lgb": ("nasdb.surrogates.lgb:LGB", "lightgbm", "surrogates"),
    "gin": ("nasdb.surrogates.gin:GIN", "torch_geometric", "torch"),
}


def get(kind: str) -> type:
    if kind not in MODELS:
        raise SurrogateError(f"unknown model {kind!r}; expected one of {', '.join(MODELS)}")
    target, library, extra = MODELS[kind]
    try:
        importlib.import_module(library)
    except ImportError:
        raise SurrogateError(
            f"the {kind} surrogate needs {library}: pip install 'nasdb[{extra}]'"
        ) from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def create(kind: str, members=None, seed: int = 0, threads=None, params=None):
    return get(kind)(members=members, seed=seed, threads=threads, **(params or {}))
