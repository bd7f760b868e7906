"""HW-NAS-Bench's ``hw_nas_bench_api.HWNASBenchAPI`` on a nasdb catalog.

``from nasdb.compat.hw_nas_bench import HWNASBenchAPI`` replaces
``from hw_nas_bench_api import HWNASBenchAPI``. The NAS-Bench-201 space is answered from
source ``nb201_hwnas`` (or ``nb201_hwnas_pickle``); the FBNet space is not in nasdb. The
pickle path argument is accepted and not read (the catalog: ``home`` or ``$NASDB_HOME``).
"""

from __future__ import annotations

import math

from nasdb.compat._common import BadKey, Field, Reader, check_index, connect
from nasdb.compat.nats import net_config
from nasdb.errors import UnknownName

SOURCES = ("nb201_hwnas", "nb201_hwnas_pickle")
DATANAMES = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet": "imagenet16-120"}
# upstream key -> (catalog metric, device), in upstream's order
METRICS = {
    "edgegpu_latency": ("latency", "edgegpu"),
    "edgegpu_energy": ("energy", "edgegpu"),
    "raspi4_latency": ("latency", "raspi4"),
    "edgetpu_latency": ("latency", "edgetpu"),
    "pixel3_latency": ("latency", "pixel3"),
    "eyeriss_latency": ("latency", "eyeriss"),
    "eyeriss_energy": ("energy", "eyeriss"),
    "eyeriss_arithmetic_intensity": ("arithmetic_intensity", "eyeriss"),
    "fpga_latency": ("latency", "fpga"),
    "fpga_energy": ("energy", "fpga"),
}
# upstream's 'average_hw_metric' multiplies every metric but the arithmetic intensity
_IN_AVERAGE = [k for k in METRICS if k != "eyeriss_arithmetic_intensity"]


class HWNASBenchAPI:
    """Latency and energy of NAS-Bench-201 cells on six devices, as upstream's API gives them."""

    def __init__(self, file_path_or_dict=None, search_space="nasbench201", home=None):
        if search_space != "nasbench201":
            raise UnknownName(
                f"search space {search_space!r} of HW-NAS-Bench is not in nasdb; "
                "only 'nasbench201' is"
            )
        self.search_space = search_space
        self._db = connect(home)
        self._read = Reader(self._db, "nb201")
        self._size = self._db.space("nb201").size

    def _task(self, dataname) -> str:
        if dataname not in DATANAMES:
            raise BadKey(f"unknown dataname {dataname!r}; expected one of {', '.join(DATANAMES)}")
        return DATANAMES[dataname]

    def query_by_index(self, arch_index: int, dataname: str) -> dict:
        """The ten hardware metrics (ms, mJ) and their product 'average_hw_metric'."""
        task = self._task(dataname)
        index = check_index(arch_index, self._size)
        table = {k: Field(task, m, SOURCES, None, d) for k, (m, d) in METRICS.items()}
        results = self._read.fields(table, index, f"architecture {index} on {dataname}")
        if all(k in results for k in _IN_AVERAGE):
            results["average_hw_metric"] = math.prod(results[k] for k in _IN_AVERAGE)
        else:
            missing = next(k for k in _IN_AVERAGE if k not in results)
            results.absent["average_hw_metric"] = results.absent[missing]
        return results

    def get_net_config(self, arch_index: int, dataname: str) -> dict:
        """The network config of the cell (NAS-Bench-201's tiny network)."""
        self._task(dataname)
        index = check_index(arch_index, self._size)
        name = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet": "ImageNet16-120"}
        return net_config(self._db.space("nb201").string(index), name[dataname])


__all__ = ["HWNASBenchAPI"]
