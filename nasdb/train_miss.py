"""Training on a miss: a search trains what the catalog lacks, and the catalog keeps it.

The miss policy :class:`TrainMiss` answers an architecture the table has no value for by
training it (:func:`nasdb.networks.training.train` on an executor), then writes the
result back as ordinary ``evaluations`` rows of the source ``trained_<space>_<task>``
(the lowest priority, so published rows always answer first) and one row of the
``trainings`` table with its provenance (recipe and sha256, dataset fingerprint, seed,
hardware, versions, wall seconds, status). A diverged training is a ``trainings`` row
with status ``diverged`` and no accuracy, and is never retried.

Each training is claimed first (:mod:`nasdb.claims`), so concurrent searches train an
architecture once: the second waits for the first's row. Every write-back is its own
generation under the writer lock, so concurrent writers lose no row, and a training
killed midway writes nothing (its claim goes stale with its process).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nasdb import claims
from nasdb.errors import NasdbError

PREFIX = "trained_"
CHAINS = {("table",), ("surrogate",), ("train",), ("surrogate", "train")}
METRICS = ("test_accuracy", "valid_accuracy")
POLL_SECONDS = 0.2


class TrainMissError(NasdbError):
    """A training miss policy that cannot be set up (task, metric, chain)."""


def source_name(space: str, task: str) -> str:
    return f"{PREFIX}{space}_{task}"


def parse_chain(miss) -> tuple[str, ...]:
    """``"train"``, ``"surrogate,train"`` or a list of the same names, checked."""
    parts = miss.split(",") if isinstance(miss, str) else list(miss)
    chain = tuple(p.strip() for p in parts if p.strip())
    if chain[:1] == ("table",) and len(chain) > 1:
        chain = chain[1:]  # the table always answers first
    if chain not in CHAINS:
        raise TrainMissError(
            f"--miss {','.join(chain) or miss!r}: one of table, surrogate, train, "
            "surrogate,train (the table always answers first)"
        )
    return chain


# the store -------------------------------------------------------------------------
def _read(gen, table: str, stem: str):
    import pyarrow.parquet as pq

    path = gen.path(table, stem)
    return None if path is None else pq.read_table(path)


def stored(home: Path, space: str, task: str, fidelity: int, recipe_sha: str, seed: int,
           fingerprint: str) -> dict[int, dict]:  # fmt: skip
    """Trainings of this (space, task, fidelity, recipe, seed, data) in the committed
    catalog, by architecture index."""
    from nasdb import manifest

    rows = _read(manifest.read(Path(home)), "trainings", source_name(space, task))
    if rows is None:
        return {}
    out = {}
    for r in rows.to_pylist():
        if (r["fidelity"], r["recipe_sha256"], r["seed"], r["dataset_fingerprint"]) == (
            fidelity, recipe_sha, seed, fingerprint
        ):  # fmt: skip
            out[int(r["arch_index"])] = r
    return out


def _training_row(result, recipe, task, source: str) -> dict:
    from nasdb import spaces

    prov = result.provenance
    return {
        "source": source,
        "space": result.space,
        "task": result.task,
        "arch_index": result.arch_index,
        "arch_id": spaces.get(result.space).arch_id(result.arch_index),
        "fidelity": result.epochs,
        "seed": result.seed,
        "status": "diverged" if result.diverged else "ok",
        "test_accuracy": result.test_accuracy,
        "valid_accuracy": result.valid_accuracy,
        "train_seconds": result.train_seconds,
        "recipe": recipe.name,
        "recipe_sha256": recipe.sha256,
        "recipe_json": json.dumps(prov["recipe"], sort_keys=True),
        "dataset": task.data,
        "dataset_fingerprint": prov["dataset_fingerprint"],
        "hardware": json.dumps(prov["hardware"], sort_keys=True),
        "versions": json.dumps(prov["versions"], sort_keys=True),
        "nasdb_version": prov["versions"].get("nasdb"),
        "history": json.dumps(result.history),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "trained_at": datetime.now(timezone.utc).replace(microsecond=0),
    }


def _evaluation_rows(row: dict) -> list[dict]:
    if row["status"] != "ok":
        return []  # a diverged run has no accuracy: only its trainings row says so
    return [
        {"space": row["space"], "arch_id": row["arch_id"], "arch_index": row["arch_index"],
         "task": row["task"], "device": None, "metric": metric, "fidelity": row["fidelity"],
         "seed": row["seed"], "value": row[metric], "unit": "%", "source": row["source"]}
        for metric in METRICS
    ]  # fmt: skip


def write_back(home: Path, rows: Sequence[dict]) -> None:
    """Append trained rows to their source as one new generation (under the writer lock,
    so a concurrent writer's rows are read and kept)."""
    import pyarrow as pa

    from nasdb.catalog import Catalog
    from nasdb.loaders.base import Source, SourceData
    from nasdb.schema import EVALUATIONS, TRAININGS

    by_source: dict[str, list[dict]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row)
    cat = Catalog(home)
    with cat.transaction() as tx:
        for name, new in by_source.items():
            old_t = _read(tx.gen, "trainings", name)
            old_e = _read(tx.gen, "evaluations", name)
            trainings = pa.Table.from_pylist(new, schema=TRAININGS)
            evals = pa.Table.from_pylist(
                [e for r in new for e in _evaluation_rows(r)], schema=EVALUATIONS
            )
            if old_t is not None:
                trainings = pa.concat_tables([old_t.cast(TRAININGS), trainings])
            if old_e is not None:
                evals = pa.concat_tables([old_e.cast(EVALUATIONS), evals])
            space, task = new[0]["space"], new[0]["task"]
            source = Source(
                name=name, space=space, title=f"{space} networks trained by nasdb on {task}",
                upstream="nasdb.networks.training (trained on a search's miss)",
                version="1", licence="as the dataset's", subdir="", files=(),
                priority=-100,
            )  # fmt: skip
            cat._stage_source(tx, source, SourceData(evals), Path(home))
            tx.put("trainings", name, trainings)


# the policy ------------------------------------------------------------------------
class TrainMiss:
    """Miss policy: train what the table lacks at ``fidelity`` epochs (see module doc).

    ``submit(index)`` returns a Future, so a search keeps ``executor.workers`` trainings
    in flight; calling the policy (a Benchmark's miss) trains a batch and waits.
    """

    trains = True

    def __init__(self, home, space: str, task, metric: str, fidelity: int, recipe, seed: int,
                 executor, costs: np.ndarray):  # fmt: skip
        from nasdb import spaces

        self.home = Path(home)
        self.space = space
        self.task = task
        self.metric = metric
        self.fidelity = fidelity
        self.recipe = recipe
        self.seed = seed
        self.executor = executor
        self.workers = executor.workers
        self.source = source_name(space, task.name)
        size = spaces.get(space).size
        self.covers = np.ones(size, dtype=bool)
        self.trained_mask = np.zeros(size, dtype=bool)  # answered by training (now or before)
        self.costs = costs  # wall seconds of each training, filled as results come
        self.trained_here = 0  # trainings this policy ran (not read back)
        self.results: dict[int, float] = {}
        self._inflight: dict[int, Future] = {}
        self._guard = threading.Lock()
        self._write_guard = threading.Lock()
        self._pending: list[dict] = []
        self._threads = ThreadPoolExecutor(max_workers=self.workers)
        for index, row in self._stored().items():
            self._keep(index, row)

    def _stored(self) -> dict[int, dict]:
        return stored(self.home, self.space, self.task.name, self.fidelity, self.recipe.sha256,
                      self.seed, self.task.fingerprint)  # fmt: skip

    def _keep(self, index: int, row: dict) -> float:
        value = row[self.metric] if row["status"] == "ok" else None
        value = float("nan") if value is None else float(value)
        self.results[index] = value
        self.trained_mask[index] = True
        self.costs[index] = row["train_seconds"]
        return value

    def has(self, index: int) -> bool:
        return index in self.results

    def submit(self, index: int) -> Future:
        index = int(index)
        with self._guard:
            if index in self.results:
                done: Future = Future()
                done.set_result(self.results[index])
                return done
            fut = self._inflight.get(index)
            if fut is None:
                fut = self._inflight[index] = self._threads.submit(self._obtain, index)
            return fut

    def _obtain(self, index: int) -> float:
        """Read the stored row, or claim and train; wait while another process trains."""
        path = claims.claim_path(self.home, self.space, self.task.name, index, self.fidelity,
                                 self.recipe.sha256, self.seed)  # fmt: skip
        while True:
            row = self._stored().get(index)
            if row is not None:
                return self._finish(index, row)
            if claims.try_claim(path):
                try:
                    row = self._stored().get(index)  # finished just before our claim
                    if row is None:
                        result = self.executor.train(
                            self.space, index, self.task, self.recipe, self.seed
                        )
                        row = _training_row(result, self.recipe, self.task, self.source)
                        self._commit(row)
                        self.trained_here += 1
                    return self._finish(index, row)
                finally:
                    claims.release(path)
            if not claims.break_stale(path):
                time.sleep(POLL_SECONDS)

    def _commit(self, row: dict) -> None:
        """Group commit: rows that finish while another write-back runs go in the next
        one together (one generation, one wide-table rebuild); returns once ``row`` is in."""
        with self._guard:
            self._pending.append(row)
        with self._write_guard:
            with self._guard:
                batch, self._pending = self._pending, []
            if batch:
                write_back(self.home, batch)

    def _finish(self, index: int, row: dict) -> float:
        with self._guard:
            value = self._keep(index, row)
            self._inflight.pop(index, None)
        return value

    def __call__(self, bench, missing: np.ndarray, fidelity) -> np.ndarray:
        from nasdb.benchmark import table_only

        if fidelity != self.fidelity:
            return table_only(bench, missing, fidelity)
        futures = [self.submit(int(i)) for i in missing]
        return np.array([f.result() for f in futures])

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self.executor.close()


class ChainMiss:
    """A surrogate where it covers the architecture, training for the rest."""

    trains = True

    def __init__(self, surrogate, train: TrainMiss):
        self.surrogate, self.train = surrogate, train
        self.fidelity = train.fidelity
        self.covers = train.covers
        self.trained_mask = train.trained_mask
        self.workers = train.workers

    def has(self, index: int) -> bool:
        return bool(self.surrogate.covers[index]) or self.train.has(index)

    def submit(self, index: int) -> Future:
        return self.train.submit(index)

    def __call__(self, bench, missing: np.ndarray, fidelity) -> np.ndarray:
        by_model = self.surrogate.covers[missing]
        out = np.empty(len(missing))
        if by_model.any():
            out[by_model] = np.ravel(self.surrogate(bench, missing[by_model], fidelity))
        if (~by_model).any():
            out[~by_model] = self.train(bench, missing[~by_model], fidelity)
        return out

    def close(self) -> None:
        self.train.close()


def build(db, space: str, task: str | None, metric, chain: tuple[str, ...], *, fidelity,
          recipe=None, seed: int = 0, executor: str = "local", workers: int = 1,
          address: str | None = None, surrogate: str | None = None, device=None):  # fmt: skip
    """A benchmark over a registered task whose misses are trained: every architecture of
    the space is valid, values come from earlier trainings or new ones."""
    from nasdb import executors, spaces
    from nasdb.benchmark import Benchmark, Objective
    from nasdb.db import _UNSET
    from nasdb.networks import recipes, tasks

    metrics = [metric] if isinstance(metric, str) else list(metric)
    if len(metrics) != 1 or metrics[0] not in METRICS:
        raise TrainMissError(
            f"--miss train: training measures one of {', '.join(METRICS)}; got {', '.join(metrics)}"
        )
    if task is None:
        raise TrainMissError("--miss train needs a task registered with `nasdb task add`")
    found = tasks.find(task, db.home)
    if found is None:
        raise TrainMissError(
            f"--miss train: task {task!r} is not registered in {db.home} (training needs its "
            f"data): nasdb task add {task} --space {space} --data DIR"
        )
    if found.space != space:
        raise TrainMissError(
            f"task {task!r} is registered for space {found.space!r}, not {space!r}"
        )
    tasks.dataset(found)  # the data is still there and unchanged: fail before any work
    epochs = None if fidelity in (_UNSET, None) else int(fidelity)
    rec = recipes.get(recipe or space, epochs)
    rec = rec.with_epochs(rec.epochs)  # one name per fidelity, as every write-back stores it
    size = spaces.get(space).size
    costs = np.full(size, np.nan)
    runner = executors.make(executor, workers, address, device)
    policy = TrainMiss(db.home, space, found, metrics[0], rec.epochs, rec, seed, runner, costs)
    miss = policy
    if "surrogate" in chain:
        key = db.resolve(space, task=task, metric=metrics[0], fidelity=rec.epochs,
                         source=source_name(space, task))  # fmt: skip
        miss = ChainMiss(db.surrogate_miss(key, surrogate or "auto"), policy)
    column = np.full((1, size), np.nan)
    bench = Benchmark(space, task, [Objective(metrics[0], "max", None, "%")],
                      {rec.epochs: column}, rec.epochs, {rec.epochs: costs}, miss)  # fmt: skip
    bench.cost_models = {rec.epochs: f"measured: wall seconds of each training ({rec.name})"}
    bench.cost_model = bench.cost_models[rec.epochs]
    return bench
