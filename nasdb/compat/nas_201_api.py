"""NAS-Bench-201's ``nas_201_api.NASBench201API`` on a nasdb catalog.

``from nasdb.compat.nas_201_api import NASBench201API as API`` replaces
``from nas_201_api import NASBench201API as API``. Same calls as the NATS-Bench topology
API (:mod:`nasdb.compat.nats`), answered from NAS-Bench-201's own results: the v1.x file
(``nb201_v1_pth``: every seed, losses, times, FLOPs, latency) where ingested, else the
200-epoch CIFAR-10 means of ``nb201_v1`` and the 12-epoch means of ``nb201_mini``.
The file argument is accepted and not read (the catalog: ``home`` or ``$NASDB_HOME``).
"""

from __future__ import annotations

from nasdb.compat.nats import TopologyAPI


class NASBench201API(TopologyAPI):
    full_source = "nb201_v1_pth"
    mean_sources = {"200": ("nb201_v1",), "12": ("nb201_mini",)}
    name = "NAS-Bench-201"

    def __init__(self, file_path_or_dict=None, verbose: bool = True, home=None):
        super().__init__(file_path_or_dict, verbose, home)


__all__ = ["NASBench201API"]
