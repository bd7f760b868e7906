"""Search spaces: how architectures are written, identified and indexed."""

from __future__ import annotations

from nasdb.errors import UnknownName

_SPACES = {"nb201": "nasdb.spaces.nb201:NB201Space", "nbgraph": "nasdb.spaces.nbgraph:NBGraphSpace"}
_cache: dict = {}


def names() -> list[str]:
    return sorted(_SPACES)


def get(name: str):
    """The space object for ``name``; imported on first use to keep start-up light."""
    if name not in _cache:
        if name not in _SPACES:
            raise UnknownName(f"unknown space {name!r}; available: {', '.join(names())}")
        import importlib

        module, cls = _SPACES[name].split(":")
        _cache[name] = getattr(importlib.import_module(module), cls)()
    return _cache[name]
