"""HELP's NAS-Bench-201 latency tables: 27 device settings, one torch file each.

Each ``<setting>.pt`` holds a plain list of 15,625 latencies in the official NB201
index order; ``str_arch2idx.pt`` maps arch strings to that order. The files are read
without torch through a restricted unpickler, and the map is checked against the
index order that nasdb derives itself, so a file in another order cannot slip in.

Device names (``device`` column), from the file stems:

- desktop GPUs at batch 1, 32 and 256: ``gtx1080ti_bs<N>``, ``rtx2080ti_bs<N>``,
  ``titan_rtx_bs<N>``, ``titanx_bs<N>``, ``titanxp_bs<N>``; the value is the time of
  one forward pass of the whole batch
- Xeon CPUs: ``xeon_gold_6226``, ``xeon_gold_6240``, ``xeon_silver_4114``,
  ``xeon_silver_4210r``
- phones: ``essential_ph1``, ``pixel2``, ``samsung_a50``, ``samsung_s7`` (whole
  milliseconds upstream) and ``pixel3``
- ``raspi4``, ``eyeriss``, ``fpga``

``pixel3``, ``raspi4``, ``eyeriss`` and ``fpga`` are HW-NAS-Bench's CIFAR-10 columns
copied unchanged, so they keep HW-NAS-Bench's device names and the task is
``cifar10`` for every setting: all are latencies of the CIFAR-sized (32x32) networks,
in ms. ``hardware_embedding_index.pt`` lists the ten reference cells whose latencies
HELP uses as a device embedding; it is a parameter of the HELP method, not a
measurement, so it is not ingested.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations, is_positive, number_list

from nasdb import spaces
from nasdb.errors import IngestError, NasdbError
from nasdb.safe_pickle import load_torch_plain
from nasdb.spaces.nb201 import SIZE

ARCH_MAP = "str_arch2idx.pt"
_GPUS = {
    "1080ti": "gtx1080ti",
    "2080ti": "rtx2080ti",
    "titan_rtx": "titan_rtx",
    "titanx": "titanx",
    "titanxp": "titanxp",
}
# file stem -> device name
DEVICES = {
    **{f"{stem}_{bs}": f"{name}_bs{bs}" for stem, name in _GPUS.items() for bs in (1, 32, 256)},
    "gold_6226": "xeon_gold_6226",
    "gold_6240": "xeon_gold_6240",
    "silver_4114": "xeon_silver_4114",
    "silver_4210r": "xeon_silver_4210r",
    "essential_ph_1": "essential_ph1",
    "pixel2": "pixel2",
    "samsung_a50": "samsung_a50",
    "samsung_s7": "samsung_s7",
    "pixel3": "pixel3",
    "raspi4": "raspi4",
    "eyeriss": "eyeriss",
    "fpga": "fpga",
}
TASK = "cifar10"

SOURCE = Source(
    name="nb201_help",
    space="nb201",
    title="HELP latencies of NAS-Bench-201 cells on GPUs, CPUs, phones, Raspberry Pi, ASIC, FPGA",
    upstream="HayeonLee/HELP@45f70eb data/nasbench201/latency",
    version="HELP (NeurIPS 2021)",
    licence="MIT",
    subdir="nb201/help_latency",
    files=(ARCH_MAP, *(f"{stem}.pt" for stem in DEVICES)),
    priority=5,
)


def check_arch_map(path: Path) -> None:
    """The upstream string->index map must be exactly nasdb's own official order."""
    mapping = load_torch_plain(path)
    if not isinstance(mapping, dict):
        raise IngestError(f"{path}: holds a {type(mapping).__name__}, expected a dict")
    if len(mapping) != SIZE:
        raise IngestError(f"{path}: {len(mapping)} entries, expected {SIZE}")
    space = spaces.get("nb201")
    for arch, index in mapping.items():
        if not isinstance(arch, str) or not arch.startswith("|") or type(index) is not int:
            raise IngestError(
                f"{path}: entry {arch!r}: {index!r} is not an arch string mapped to an index"
            )
        try:
            ours = space.index(arch)
        except NasdbError:
            raise IngestError(f"{path}: {arch!r} is not an NB201 arch string") from None
        if ours != index:
            raise IngestError(
                f"{path}: maps {arch} to {index}, but its official NB201 index is {ours}"
            )


def latencies(path: Path) -> np.ndarray:
    """One setting's list as float64, after checking its shape and values."""
    arr = number_list(load_torch_plain(path), path, "latencies")
    if len(arr) != SIZE:
        raise IngestError(f"{path}: {len(arr)} latencies, expected {SIZE} (truncated?)")
    bad = ~is_positive(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IngestError(
            f"{path}: latency of index {i} is {float(arr[i])}, expected a positive number"
        )
    return arr


def read(path: Path) -> SourceData:
    check_arch_map(path / ARCH_MAP)
    tables, files = [], [path / ARCH_MAP]
    index = np.arange(SIZE)
    for stem, device in DEVICES.items():
        f = path / f"{stem}.pt"
        tables.append(
            evaluations(
                "nb201",
                SOURCE.name,
                index,
                latencies(f),
                task=TASK,
                device=device,
                metric="latency",
                unit="ms",
            )
        )
        files.append(f)
    return SourceData(concat(tables), files)
