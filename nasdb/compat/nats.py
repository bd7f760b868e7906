"""NATS-Bench's ``nats_bench.create(..., 'tss')`` API on a nasdb catalog.

``from nasdb.compat.nats import create`` replaces ``from nats_bench import create``; the
topology search space ('tss', the NAS-Bench-201 cells) is answered, the size space ('sss')
is not in nasdb and raises ``ValueError`` as an unknown space does upstream.

Values come from the fullest source ingested: the NATS-Bench archive (``nb201_nats_tss``:
every seed, losses, times, FLOPs, latency), else the tables of means (``nb201_nats`` for
200 epochs, ``nb201_mini`` for 12). ``is_random=True`` draws one of the trained seeds, as
upstream does, where per-seed rows exist; over tables of means it gives the mean (the
expectation of that draw). A field no ingested source holds raises
:class:`~nasdb.compat.MissingField`, a ``KeyError`` naming it and the source to ingest.
"""

from __future__ import annotations

import random

from nasdb.compat._common import BadKey, Field, Fields, MissingField, Reader, connect
from nasdb.errors import UnknownName

DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
TASK = {"cifar10-valid": "cifar10-valid", "cifar10": "cifar10", "cifar100": "cifar100",
        "ImageNet16-120": "imagenet16-120"}  # fmt: skip
# upstream dataset -> {result prefix: (catalog task, catalog metric prefix)}, as the
# upstream API's get_more_info reads each dataset's evaluation sets
SETS = {
    "cifar10-valid": {"train": ("cifar10-valid", "train"), "valid": ("cifar10", "valid"),
                      "test": ("cifar10-valid", "test")},
    "cifar10": {"train": ("cifar10", "train"), "test": ("cifar10", "test")},
    "cifar100": {"train": ("cifar100", "train"), "valid": ("cifar100", "valid"),
                 "test": ("cifar100", "test"), "valtest": (None, None)},
    "ImageNet16-120": {"train": ("imagenet16-120", "train"),
                       "valid": ("imagenet16-120", "valid"),
                       "test": ("imagenet16-120", "test"), "valtest": (None, None)},
}  # fmt: skip
LATENCY_DEVICE = "gpu_bs256"


def net_config(arch_str: str, dataset: str) -> dict:
    """NAS-Bench-201's tiny network (16 channels, 5 cells per stage) for one cell."""
    classes = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
    return {"name": "infer.tiny", "C": 16, "N": 5, "arch_str": arch_str,
            "num_classes": classes[dataset]}  # fmt: skip


class TopologyAPI:
    """The NAS-Bench-201 cell benchmark API shared by NATS-Bench 'tss' and NAS-Bench-201."""

    full_source = "nb201_nats_tss"
    mean_sources = {"200": ("nb201_nats",), "12": ("nb201_mini",)}
    name = "NATS-Bench topology"

    def __init__(self, file_path_or_dict=None, verbose: bool = False, home=None):
        self.file_path_or_dict = file_path_or_dict
        self.verbose = verbose
        self._db = connect(home)
        self._space = self._db.space("nb201")
        self._read = Reader(self._db, "nb201")
        self.meta_archs = [self._space.string(i) for i in range(self._space.size)]
        self.archstr2index = {s: i for i, s in enumerate(self.meta_archs)}
        self._used_time = 0.0

    # the architectures ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.meta_archs)

    def __getitem__(self, index: int) -> str:
        return self.meta_archs[index]

    def arch(self, index: int) -> str:
        if not isinstance(index, int) or not 0 <= index < len(self):
            raise UnknownName(f"invalid index : {index!r} vs. {len(self)}.")
        return self.meta_archs[index]

    def query_index_by_arch(self, arch) -> int:
        """Index of an index, an arch string or an object with ``tostr``; -1 if not a cell."""
        if isinstance(arch, int):
            if 0 <= arch < len(self):
                return arch
            raise UnknownName(f"Invalid architecture index {arch} vs [0, {len(self)}).")
        if hasattr(arch, "tostr"):
            arch = arch.tostr()
        return self.archstr2index.get(arch, -1) if isinstance(arch, str) else -1

    def random(self) -> int:
        return random.randint(0, len(self) - 1)

    @property
    def used_time(self) -> float:
        return self._used_time

    def reset_time(self) -> None:
        self._used_time = 0.0

    # results ----------------------------------------------------------------------------
    def _index(self, arch) -> int:
        index = self.query_index_by_arch(arch)
        if index < 0:
            raise UnknownName(f"Did not find {arch!r} in the {self.name} space.")
        return index

    def _check(self, dataset, hp) -> tuple[str, str]:
        if dataset not in SETS:
            raise BadKey(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
        if str(hp) not in self.mean_sources:
            raise BadKey(f"unknown hp {hp!r}; expected one of {', '.join(self.mean_sources)}")
        return dataset, str(hp)

    def _sources(self, hp: str, mean: bool) -> tuple[str, ...]:
        return (self.full_source, *self.mean_sources[hp]) if mean else (self.full_source,)

    def _seed(self, probe: Field, is_random) -> int | None:
        """The seed to read: None for the mean; per-seed rows must exist for any other."""
        if isinstance(is_random, bool):
            seeds = self._read.seeds(probe) if is_random else []
            return random.choice(seeds) if seeds else None
        if isinstance(is_random, int):
            seeds = self._read.seeds(probe)
            if is_random not in seeds:
                raise MissingField(
                    f"seed {is_random} is not in the catalog (seeds held: "
                    f"{', '.join(map(str, seeds)) or 'none'}); per-seed results come from "
                    f"source {self.full_source} (run: nasdb ingest {self.full_source})"
                )
            return is_random
        raise UnknownName(f"invalid value for is_random: {is_random!r}")

    def get_more_info(self, index, dataset, iepoch=None, hp="12", is_random=True) -> Fields:
        """Loss, accuracy and times on the dataset's train / valid / test sets after training."""
        dataset, hp = self._check(dataset, hp)
        index = self._index(index)
        epochs = int(hp)
        if iepoch is not None and iepoch != epochs - 1:
            raise MissingField(
                f"iepoch={iepoch}: nasdb stores results after the last epoch of each schedule "
                f"(iepoch=None or {epochs - 1}), not the learning curve"
            )
        table: dict[str, Field] = {}
        for prefix, (task, metric) in SETS[dataset].items():
            if task is None:  # evaluation sets no nasdb source stores
                continue
            mean = prefix != "train"
            src = self._sources(hp, mean)
            table[f"{prefix}-loss"] = Field(task, f"{metric}_loss", (self.full_source,), epochs)
            table[f"{prefix}-accuracy"] = Field(task, f"{metric}_accuracy", src, epochs)
        train_time = Field(TASK[dataset], "train_time", (self.full_source,), epochs)
        probe = next(
            f for k, f in table.items() if k.endswith("accuracy") and k != "train-accuracy"
        )
        seed = self._seed(probe, is_random)
        what = f"architecture {index} on {dataset} (hp={hp})"
        info = self._read.fields(table, index, what, seed)
        per_epoch = self._read.value(train_time, index, seed)
        for prefix in SETS[dataset]:
            names = [f"{prefix}-per-time", f"{prefix}-all-time"]
            if prefix == "train" and per_epoch is not None:
                info.update(zip(names, (per_epoch, per_epoch * epochs), strict=True))
            else:
                for name in names:  # evaluation times: not stored by any nasdb source
                    info.absent[name] = (
                        f"{name!r} of {what} is not in the catalog; training times come from "
                        f"source {self.full_source}, evaluation times from no nasdb source"
                    )
        for prefix, (task, _) in SETS[dataset].items():
            if task is None:
                for name in ("loss", "accuracy", "per-time", "all-time"):
                    info.absent[f"{prefix}-{name}"] = (
                        f"'{prefix}-{name}' of {what} (the ori-test set, the valid and test "
                        "halves together) is stored by no nasdb source"
                    )
        return info

    def get_cost_info(self, index: int, dataset: str, hp: str = "12") -> Fields:
        """FLOPs and parameters (millions), latency (seconds per batch) and training times."""
        dataset, hp = self._check(dataset, hp)
        index = self._index(index)
        task = TASK[dataset]
        params_sources = (self.full_source, *self.mean_sources["200"])
        table = {
            "flops": Field(task, "flops", (self.full_source,)),
            "params": Field(task if task != "cifar10-valid" else "cifar10", "params",
                            params_sources),
            "latency": Field(task, "latency", (self.full_source,), None, LATENCY_DEVICE, 0.001),
            "T-train@epoch": Field(task, "train_time", (self.full_source,), int(hp)),
        }  # fmt: skip
        info = self._read.fields(table, index, f"architecture {index} on {dataset}")
        if "T-train@epoch" in info:
            info["T-train@total"] = info["T-train@epoch"] * int(hp)
        else:
            info.absent["T-train@total"] = info.absent["T-train@epoch"]
        return info

    def get_latency(self, index: int, dataset: str, hp: str = "12") -> float:
        return self.get_cost_info(index, dataset, hp)["latency"]

    def simulate_train_eval(self, arch, dataset, iepoch=None, hp="12", account_time=True):
        """(validation accuracy, latency, training time, total time so far), as upstream."""
        index = self._index(arch)
        if dataset not in ("cifar10", "cifar100", "ImageNet16-120"):
            raise UnknownName(
                f"Invalid dataset name : {dataset} vs ('cifar10', 'cifar100', 'ImageNet16-120')"
            )
        name = "cifar10-valid" if dataset == "cifar10" else dataset
        info = self.get_more_info(index, name, iepoch=iepoch, hp=hp, is_random=True)
        valid_acc = info["valid-accuracy"]
        time_cost = info["train-all-time"]
        latency = self.get_latency(index, dataset, hp=hp)
        if account_time:
            self._used_time += time_cost
        return valid_acc, latency, time_cost, self._used_time

    def get_net_config(self, index: int, dataset: str) -> dict:
        """The config ``xautodl.models.get_cell_based_tiny_net`` builds the network from."""
        if dataset not in SETS:
            raise BadKey(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
        return net_config(self.arch(index), dataset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} architectures, catalog {self._db.home})"


class NATStopology(TopologyAPI):
    """NATS-Bench topology search space ('tss')."""

    def __init__(self, file_path_or_dict=None, fast_mode=True, verbose=False, home=None):
        super().__init__(file_path_or_dict, verbose, home)
        self.fast_mode = fast_mode


def create(file_path_or_dict=None, search_space="tss", fast_mode=True, verbose=False, home=None):
    """The NATS-Bench API for a search space; only the topology one ('tss') is in nasdb."""
    if search_space in ("tss", "topology"):
        return NATStopology(file_path_or_dict, fast_mode, verbose, home)
    if search_space in ("sss", "size"):
        raise UnknownName(
            f"search space {search_space!r} (NATS-Bench size) is not in nasdb; only 'tss' is"
        )
    raise UnknownName(f"invalid search space : {search_space}")


__all__ = ["NATStopology", "TopologyAPI", "create"]
