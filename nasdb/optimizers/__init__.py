"""Search algorithms with an ask/tell contract; each sees a :class:`~nasdb.benchmark.Problem`.

``REGISTRY`` maps a short name to ``module:Class``; modules are imported only when used.
"""

from __future__ import annotations

import importlib

from nasdb.errors import UnknownName

REGISTRY: dict[str, str] = {
    "rs": "nasdb.optimizers.random_search:RandomSearch",
    "rea": "nasdb.optimizers.regularized_evolution:RegularizedEvolution",
    "ls": "nasdb.optimizers.local_search:LocalSearch",
    "sh": "nasdb.optimizers.successive_halving:SuccessiveHalving",
    "hb": "nasdb.optimizers.successive_halving:Hyperband",
    "bananas": "nasdb.optimizers.bananas:Bananas",
    "reinforce": "nasdb.optimizers.reinforce:Reinforce",
    "bohb": "nasdb.optimizers.bohb:BOHB",
    "nsga2": "nasdb.optimizers.nsga2:NSGA2",
    "cmanas": "nasdb.optimizers.cmanas:CMANAS",
    "hw-evrsnas": "nasdb.optimizers.hw_evrsnas:HWEvRSNAS",
    "nevonas": "nasdb.optimizers.nevonas:NEvoNAS",
    "pevonas": "nasdb.optimizers.pevonas:PEvoNAS",
    "mo-hdnas": "nasdb.optimizers.mo_hdnas:MOHDNAS",
    "zs": "nasdb.optimizers.prior_order:PriorOrder",
}


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str) -> type:
    if name not in REGISTRY:
        raise UnknownName(f"unknown algorithm {name!r}; available: {', '.join(names())}")
    module, cls = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)
