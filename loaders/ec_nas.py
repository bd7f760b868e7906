"""EC-NAS-Bench: NAS-Bench-101 cells retrained for 4 epochs with energy and carbon tracked.

Layout below the source directory::

    data/graphs/generated_graphs_{4V9E,5V9E}.json     hash -> [adjacency, nasbench labels]
    data/train_model_results/energy/<sweep>/4_epochs/<hash[:2]>/<hash>/repeat_<k>/results.json

Two sweeps: ``5V9E`` trains every cell with at most 5 vertices (2,532) once and evaluates
after 0, 2 and 4 epochs; ``4V9E`` trains the 91 cells with at most 4 vertices three more
times, evaluating after 0, 1 and 4 epochs. Every graph key must be the nasbench hash of its
own graph (checked with nasdb's hash) and every result directory a graph of its sweep.

Each run is its own ``seed``: the 5V9E run is seed 0, 4V9E ``repeat_k`` is seed k, so the
91 small cells have seeds 0-3. Per evaluation stage (``fidelity`` = epochs trained, 0 for
the untrained network): ``train_accuracy``, ``valid_accuracy``, ``test_accuracy`` in %;
for stages after training starts, the cumulative ``train_time`` (s), ``train_energy``
(kWh) and ``train_co2`` (g CO2-equivalent). Per run at fidelity 4: ``total_time`` (s),
``total_energy`` (kWh) and ``total_co2`` (g) of the whole job including evaluations, and
the average ``gpu_power`` and ``cpu_power`` (W, CPU sockets summed). ``params`` (M) once
per cell, checked equal across runs.

Training energy stays in kWh under its own metric names: it is the energy of a whole
training job, which the schema's ``energy`` (mJ per inference, from hardware benchmarks)
must not be confused with. Cost rows carry ``device`` = the GPU the job ran on
(``quadro_rtx_6000``); accuracies carry none. Not ingested: EC-NAS's own predictions of
the full run (``predicted_*``), the grid carbon intensity (a property of the time and
place, not of the network), wall-clock stamps and ``predict_time``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations, require

from nasdb.errors import IngestError, UnknownName
from nasdb.safe_pickle import read_bytes
from nasdb.spaces import get as get_space
from nasdb.spaces.nb101_cells import cell_hash

GRAPHS = "data/graphs/generated_graphs_{}.json"
RESULTS = "data/train_model_results/energy/{}/4_epochs"
# sweep -> (cells, evaluation epochs, repeats, seed of repeat_1)
SWEEPS = {"5V9E": (2532, (0, 2, 4), 1, 0), "4V9E": (91, (0, 1, 4), 3, 1)}
BUDGET = 4
_RUN = re.compile(r"([0-9a-f]{2})/([0-9a-f]{32})/repeat_(\d+)/results\.json")
_STAGE_ACC = {"train_accuracy": "train_accuracy", "validation_accuracy": "valid_accuracy"}
_STAGE_ACC["test_accuracy"] = "test_accuracy"
# stage field -> (metric, unit)
_STAGE_COST = {
    "training_time": ("train_time", "s"),
    "energy (kWh)": ("train_energy", "kWh"),
    "co2eq (g)": ("train_co2", "g"),
}
_TOTALS = {
    "total_time": ("total_time", "s"),
    "total_energy (kWh)": ("total_energy", "kWh"),
    "total_co2eq (g)": ("total_co2", "g"),
}

SOURCE = Source(
    name="nb101_ecnas",
    space="nb101",
    title="EC-NAS-Bench: energy, CO2, power, time and accuracy of 2,532 NAS-Bench-101 "
    "cells trained 4 epochs",
    upstream="PedramBakh/EC-NAS-Bench@1a82fdd data/graphs, data/train_model_results/energy",
    version="EC-NAS-Bench 4-epoch retraining, 4V9E and 5V9E sweeps",
    licence="MIT",
    subdir="nb101/ec_nas",
    files=tuple(GRAPHS.format(s) for s in ("4V9E", "5V9E")),
    priority=2,
)


def _json(path: Path) -> Any:
    raw = read_bytes(require(path))
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise IngestError(f"{path}: not readable JSON ({exc})") from None


def _number(path: Path, where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise IngestError(f"{path}: {where} is {value!r}, expected a finite number")
    if value < 0:
        raise IngestError(f"{path}: {where} is {value}, expected a value >= 0")
    return float(value)


def _field(path: Path, record: Any, key: str, where: str = "") -> Any:
    if not isinstance(record, dict) or key not in record:
        raise IngestError(f"{path}: {where}missing field {key!r}")
    return record[key]


def _device(path: Path, names: Any) -> str:
    if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
        raise IngestError(f"{path}: gpu devices is {names!r}, expected one GPU name")
    name = names[0].strip().removeprefix("NVIDIA ").lower()
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


def _power(path: Path, usage: Any, part: str) -> float:
    watts = _field(path, _field(path, usage, part), "avg_power_usages (W)", f"{part} ")
    if not isinstance(watts, list) or len(watts) != 1 or not isinstance(watts[0], list):
        raise IngestError(f"{path}: {part} power is {watts!r}, expected [[W, ...]]")
    return sum(_number(path, f"{part} power", w) for w in watts[0])


def _graphs(path: Path, sweep: str, cells: int) -> dict[str, int]:
    f = path / GRAPHS.format(sweep)
    graphs = _json(f)
    if not isinstance(graphs, dict):
        raise IngestError(f"{f}: holds a {type(graphs).__name__}, expected hash -> graph")
    if len(graphs) != cells:
        raise IngestError(f"{f}: {len(graphs)} graphs, expected {cells} (truncated file?)")
    for key, graph in graphs.items():
        if not (isinstance(graph, list) and len(graph) == 2):
            raise IngestError(f"{f}: graph {key} is not [adjacency, labels]")
        try:
            h = cell_hash(*graph)
        except UnknownName as exc:
            raise IngestError(f"{f}: graph {key}: {exc}") from None
        if h != key:
            raise IngestError(f"{f}: graph {key} has the nasbench hash {h}, not its key")
    keys = list(graphs)
    index = get_space("nb101").indices_of_hashes(keys)
    return dict(zip(keys, index.tolist(), strict=True))


def read(path: Path) -> SourceData:
    # (metric, unit, fidelity, seed, device) -> ([arch_index], [value])
    columns: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    params: dict[int, float] = {}
    files = []

    def put(key: tuple, i: int, value: float) -> None:
        columns[key][0].append(i)
        columns[key][1].append(value)

    for sweep, (cells, stages, repeats, first_seed) in SWEEPS.items():
        files.append(path / GRAPHS.format(sweep))
        index_of = _graphs(path, sweep, cells)
        root = path / RESULTS.format(sweep)
        if not root.is_dir():
            raise IngestError(f"{root}: results directory not found")
        runs = sorted(root.glob("*/*/*/results.json"))
        if len(runs) != cells * repeats:
            raise IngestError(
                f"{root}: {len(runs)} results.json files, expected {cells} cells x {repeats} "
                "repeats (missing runs?)"
            )
        for f in runs:
            match = _RUN.fullmatch(f.relative_to(root).as_posix())
            if not match or match[1] != match[2][:2] or not 1 <= int(match[3]) <= repeats:
                raise IngestError(f"{f}: not <hash[:2]>/<hash>/repeat_<1..{repeats}>/results.json")
            h, seed = match[2], first_seed + int(match[3]) - 1
            if h not in index_of:
                raise IngestError(f"{f}: cell {h} is not in {GRAPHS.format(sweep)}")
            i = index_of[h]
            run = _json(f)
            if "model_hash" in run and run["model_hash"] != h:
                raise IngestError(f"{f}: model_hash {run['model_hash']!r}, expected {h}")
            n = _number(f, "trainable_params", _field(f, run, "trainable_params")) / 1e6
            if params.setdefault(i, n) != n:
                raise IngestError(f"{f}: trainable_params {n * 1e6:g} differs from another run")
            usage = _field(f, run, "avg_power_usages:")
            device = _device(f, _field(f, _field(f, usage, "gpu"), "devices", "gpu "))
            for field, (metric, unit) in _TOTALS.items():
                value = _number(f, field, _field(f, run, field))
                put((metric, unit, BUDGET, seed, device), i, value)
            put(("gpu_power", "W", BUDGET, seed, device), i, _power(f, usage, "gpu"))
            put(("cpu_power", "W", BUDGET, seed, device), i, _power(f, usage, "cpu"))
            evals = _field(f, run, "evaluation_results")
            if not isinstance(evals, list):
                raise IngestError(f"{f}: evaluation_results is not a list of stages")
            got = [e.get("epochs") if isinstance(e, dict) else None for e in evals]
            if got != list(stages):
                raise IngestError(f"{f}: evaluations at epochs {got}, expected {list(stages)}")
            for stage in evals:
                epochs = int(stage["epochs"])
                for field, metric in _STAGE_ACC.items():
                    acc = _number(f, f"epoch {epochs} {field}", _field(f, stage, field))
                    if acc > 1:
                        raise IngestError(f"{f}: epoch {epochs} {field} is {acc}, expected <= 1")
                    put((metric, "%", epochs, seed, None), i, acc * 100)
                if epochs == 0:
                    continue
                for field, (metric, unit) in _STAGE_COST.items():
                    value = _number(f, f"epoch {epochs} {field}", _field(f, stage, field))
                    put((metric, unit, epochs, seed, device), i, value)
            files.append(f)

    tables = [
        evaluations(
            "nb101",
            SOURCE.name,
            np.array(idx),
            np.array(vals),
            task="cifar10",
            metric=metric,
            unit=unit,
            fidelity=fidelity,
            seed=seed,
            device=device,
        )
        for (metric, unit, fidelity, seed, device), (idx, vals) in columns.items()
    ]
    cells = np.array(sorted(params))
    tables.append(
        evaluations(
            "nb101",
            SOURCE.name,
            cells,
            np.array([params[c] for c in cells]),
            task="cifar10",
            metric="params",
            unit="M",
        )
    )
    return SourceData(concat(tables), files)
