"""NAS-Bench-NLP training logs: one JSON file per training run, zipped or in a folder.

Upstream's ``main_one_model_train.py`` writes ``log_stats_model_<recipe id>_<start
time>_<experiment id>.json`` holding the run's arguments (``data``, ``epochs``,
``recepie_id``, ``recepie`` as JSON text, ...), ``num_params``, ``status`` and four lists
with one entry per finished epoch: ``train_losses``, ``val_losses`` and ``test_losses``
(mean cross-entropy per token in nats, each set evaluated after the epoch) and
``wall_times`` (seconds of that epoch's training, evaluation excluded). ``status`` is
``'OK'`` after all epochs, ``'loss is nan!'`` when a loss became NaN (that epoch is the
last one logged), or ``'Exception: ...'`` / ``'KeyboardInterrupt'``.

Rows (``fidelity`` = epochs trained):

- per epoch: ``train_loss``, ``valid_loss``, ``test_loss`` (``'nats'``), the matching
  ``*_perplexity`` = exp(loss) (``''``), and ``train_time``, the cumulative training
  seconds up to that epoch (``'s'``). A NaN or infinite loss is no row.
- per run, ``fidelity`` NULL: ``params`` (``num_params`` in millions, embeddings and
  softmax included, so they depend on the vocabulary) and ``run_ok`` (1 for status
  ``'OK'``, else 0): failed runs keep their rows up to the failure.

Seeds are not recorded. A recipe id with one run gives rows with ``seed`` NULL. One with
several runs gives each run as ``seed`` 0, 1, ... (by start time, then experiment id) and
``seed`` NULL rows that average the runs: losses and times over the runs that reached the
epoch, ``run_ok`` as the share of runs that finished; perplexity stays exp(mean loss).
Other ids with the same recipe are separate arch indices that share an ``iso_id``.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
from nasdb.loaders.base import SourceData, concat, evaluations, printable

from nasdb.errors import IngestError
from nasdb.spaces import nbnlp
from nasdb.spaces.nbnlp_recipes import RecipeError, canonical_json, hash_text

SPACE = "nbnlp"
CURVES = ("train_losses", "val_losses", "test_losses", "wall_times")
FIELDS = {
    "recepie_id": int,
    "recepie": str,
    "data": str,
    "epochs": int,
    "num_params": int,
    "status": str,
    "experiment_id": int,
    "init_time": str,
    **dict.fromkeys(CURVES, list),
}
LOSS_METRICS = ("train", "valid", "test")


@dataclass
class Run:
    where: str  # file, or archive and member, for messages
    index: int
    recipe: str  # canonical JSON
    order: tuple  # (start time, experiment id): which run of a recipe id comes first
    ok: bool
    params: float
    curves: np.ndarray  # (4, finished epochs): 3 losses, cumulative training seconds


def members(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(where, bytes)`` of each JSON log in a zip archive or a folder."""
    if path.is_dir():
        for f in sorted(path.glob("*.json")):
            yield str(f), f.read_bytes()
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise IngestError(f"{path}: not a readable zip archive ({printable(str(exc))})") from None
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.suffix != ".json" or _junk(name):
                continue
            try:
                raw = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
                raise IngestError(
                    f"{path}: member {info.filename} is damaged ({printable(str(exc))})"
                ) from None
            yield f"{path}: member {info.filename}", raw


def _junk(name: PurePosixPath) -> bool:
    return name.parts[0] == "__MACOSX" or name.name.startswith("._")


def parse(where: str, raw: bytes, dataset: str) -> Run:
    """One log, checked field by field."""
    try:
        log = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise IngestError(f"{where}: not a readable JSON log ({printable(str(exc))})") from None
    if not isinstance(log, dict):
        raise IngestError(f"{where}: holds a JSON {type(log).__name__}, expected an object")
    missing = [k for k in FIELDS if k not in log]
    if missing:
        raise IngestError(
            f"{where}: missing key(s) {', '.join(missing)}; expected {', '.join(FIELDS)}"
        )
    for key, typ in FIELDS.items():
        value = log[key]
        if not isinstance(value, typ) or isinstance(value, bool):
            raise IngestError(
                f"{where}: {key!r} is {type(value).__name__}, expected {typ.__name__}"
            )
    got = PurePosixPath(log["data"].rstrip("/")).name.lower()
    if got != dataset:
        raise IngestError(f"{where}: a log of dataset {log['data']!r}, expected {dataset}")
    index = int(nbnlp.index_of_recipe_ids(np.array([log["recepie_id"]]))[0])
    if index < 0:
        raise IngestError(
            f"{where}: recepie_id {log['recepie_id']} is outside the NAS-Bench-NLP recipe "
            f"lists ({nbnlp.id_ranges()})"
        )
    try:
        recipe = canonical_json(log["recepie"])
    except RecipeError as exc:
        raise IngestError(f"{where}: 'recepie' is not a valid recipe: {exc}") from None
    epochs, status = log["epochs"], log["status"]
    if epochs < 1 or log["num_params"] < 1:
        raise IngestError(f"{where}: 'epochs' and 'num_params' must be positive")
    curves = _curves(where, log, epochs)
    ok = status == "OK"
    if ok and (curves.shape[1] != epochs or not np.isfinite(curves).all()):
        raise IngestError(
            f"{where}: status 'OK' but {curves.shape[1]} of {epochs} epochs logged or a "
            "loss that is not finite"
        )
    curves[3] = np.cumsum(curves[3])
    return Run(
        where=where,
        index=index,
        recipe=recipe,
        order=(log["init_time"], log["experiment_id"]),
        ok=ok,
        params=log["num_params"] / 1e6,
        curves=curves,
    )


def _curves(where: str, log: dict, epochs: int) -> np.ndarray:
    lengths = {len(log[k]) for k in CURVES}
    if len(lengths) != 1 or lengths.pop() > epochs:
        listed = ", ".join(f"{k} {len(log[k])}" for k in CURVES)
        raise IngestError(f"{where}: curve lengths {listed}; expected equal, at most {epochs}")
    values = [v for k in CURVES for v in log[k]]
    if not all(type(v) in (int, float) for v in values):
        bad = next(v for v in values if type(v) not in (int, float))
        raise IngestError(f"{where}: curve value {bad!r} where numbers belong")
    curves = np.array(values, dtype=np.float64).reshape(len(CURVES), -1)
    losses, times = curves[:3], curves[3]
    if (losses < 0).any():
        raise IngestError(f"{where}: negative loss; expected cross-entropies in nats")
    if not (np.isfinite(times) & (times >= 0)).all():
        raise IngestError(f"{where}: 'wall_times' must be finite non-negative seconds")
    losses[~np.isfinite(losses)] = math.nan
    return curves


def read_runs(sources: list[Path], dataset: str) -> list[Run]:
    """Every run in ``sources`` (zips or folders), each run once.

    The same log in two sources (upstream's single-run and multi-run PTB archives share
    some) counts once; two different logs of one run, or two recipes under one id, are
    errors.
    """
    runs: list[Run] = []
    seen: dict[tuple, tuple[str, str]] = {}
    recipe_of: dict[int, Run] = {}
    for path in sources:
        for where, raw in members(path):
            run = parse(where, raw, dataset)
            key = (run.index, *run.order)
            digest = hashlib.sha256(raw).hexdigest()
            if key in seen:
                if seen[key][1] != digest:
                    raise IngestError(f"{where}: a different log of the same run as {seen[key][0]}")
                continue
            seen[key] = (where, digest)
            first = recipe_of.setdefault(run.index, run)
            if first.recipe != run.recipe:
                raise IngestError(
                    f"{where}: recepie_id {nbnlp.recipe_ids(np.array([run.index]))[0]} names "
                    f"another recipe than in {first.where}"
                )
            runs.append(run)
    return runs


def _mean(stack: np.ndarray) -> np.ndarray:
    """Mean over runs (axis 0) of the finite values; NaN where no run has one."""
    finite = np.isfinite(stack)
    count = finite.sum(axis=0)
    total = np.where(finite, stack, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _by_epoch(source: str, index: np.ndarray, values: np.ndarray, **key) -> pa.Table:
    """Rows of an (architectures, epochs) array, ``fidelity`` = epoch (1-based)."""
    n, width = values.shape
    flat = values.T.reshape(-1)
    table = evaluations(SPACE, source, np.tile(index, width), flat, **key)
    epochs = np.repeat(np.arange(1, width + 1, dtype=np.int32), n)[~np.isnan(flat)]
    return table.set_column(
        table.schema.get_field_index("fidelity"), "fidelity", pa.array(epochs, pa.int32())
    )


def to_source_data(runs: list[Run], *, task: str, source: str, files: list[Path]) -> SourceData:
    """Evaluation rows (see the module docstring) and the recipes of the runs."""
    by_index: dict[int, list[Run]] = {}
    for run in sorted(runs, key=lambda r: (r.index, r.order)):
        by_index.setdefault(run.index, []).append(run)
    indices = np.array(sorted(by_index), dtype=np.int64)
    width = max((r.curves.shape[1] for r in runs), default=0)

    def padded(group: list[Run]) -> np.ndarray:
        out = np.full((len(group), 4, width), np.nan)
        for k, r in enumerate(group):
            out[k, :, : r.curves.shape[1]] = r.curves
        return out

    groups = [by_index[i] for i in indices.tolist()]
    layers = [
        (
            None,
            indices,
            np.array([_mean(padded(g)) for g in groups]).reshape(len(groups), 4, width),
            np.array([np.mean([r.params for r in g]) for g in groups]),
            np.array([np.mean([r.ok for r in g]) for g in groups], dtype=np.float64),
        )
    ]
    repeated = [(i, g) for i, g in zip(indices.tolist(), groups, strict=True) if len(g) > 1]
    for seed in range(max((len(g) for _, g in repeated), default=0)):
        picked = [(i, g[seed]) for i, g in repeated if seed < len(g)]
        layers.append(
            (
                seed,
                np.array([i for i, _ in picked], dtype=np.int64),
                padded([r for _, r in picked]),
                np.array([r.params for _, r in picked]),
                np.array([r.ok for _, r in picked], dtype=np.float64),
            )
        )
    tables = []
    for seed, index, curves, params, ok in layers:
        common = dict(task=task, seed=seed)
        tables.append(
            evaluations(SPACE, source, index, params, metric="params", unit="M", **common)
        )
        tables.append(evaluations(SPACE, source, index, ok, metric="run_ok", unit="", **common))
        with np.errstate(over="ignore"):
            perplexity = np.exp(curves[:, :3])
        per_epoch = [(f"{n}_loss", curves[:, k], "nats") for k, n in enumerate(LOSS_METRICS)]
        per_epoch += [(f"{n}_perplexity", perplexity[:, k], "") for k, n in enumerate(LOSS_METRICS)]
        per_epoch.append(("train_time", curves[:, 3], "s"))
        for metric, values, unit in per_epoch:
            tables.append(_by_epoch(source, index, values, metric=metric, unit=unit, **common))
    recipes = [g[0].recipe for g in groups]
    architectures = pa.table(
        {
            "arch_index": pa.array(indices, pa.int64()),
            "encoding": pa.array(recipes, pa.string()),
            "iso_id": pa.array([hash_text(t) for t in recipes], pa.string()),
        }
    )
    return SourceData(concat(tables), files, architectures)
