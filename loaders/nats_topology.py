"""NATS-Bench topology search space, read from the upstream 'simple' archive.

The archive ``NATS-tss-v1_0-3ffb9-simple/`` (the unpacked ``…-simple.tar``; the NATS-Bench
API opens it with ``fast_mode=True``) holds bz2-compressed pickles:

- ``meta.pickle.pbz2``: a dict whose ``meta_archs`` lists the 15,625 arch strings in index
  order (it also carries ``total_archs``, an empty ``arch2infos`` and ``evaluated_indexes``)
- ``NNNNNN.pickle.pbz2``, one per architecture (index zero-padded to six digits; the API
  also accepts it unpadded): an (ordered) dict from the schedule, ``'12'`` or ``'200'``
  training epochs, to the state dict of that schedule's ``ArchResults``, trained weights
  removed. :mod:`nasdb.loaders.nb201_results` describes that dict and how it becomes rows.

NATS-Bench trained the 12-epoch schedule with seeds 111 and 777 and the 200-epoch schedule
with seeds 777, 888 and 999, not every seed for every cell. Its training times are upstream
estimates, not measurements: per cell, one per-epoch time taken from a 12-epoch CIFAR-10
run and scaled by each dataset's training-set size, the same for every seed and schedule.
Its latencies were copied from NAS-Bench-201 v1.0 (the two CIFAR-10 settings averaged into
one value for both).

Every architecture file found is read; the archive need not be complete (upstream's own
test fixture holds three cells). The pickles may only name plain containers and numpy
scalars. Decompressing and unpickling 15,625 files is CPU-bound, so chunks of files go to
worker processes, one per core up to eight. ``--source`` may name the archive directory or
the directory holding it (such as ``$TORCH_HOME``).
"""

from __future__ import annotations

import bz2
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from nasdb.loaders.base import Source, SourceData, require
from nasdb.loaders.nb201_results import RESULT_CLASSES, Rows, add_schedules, check_meta_archs

from nasdb.errors import IngestError
from nasdb.safe_pickle import loads, read_bytes
from nasdb.spaces.nb201 import SIZE

ARCHIVE = "NATS-tss-v1_0-3ffb9-simple"
META = "meta.pickle.pbz2"
ARCH_FILE = re.compile(r"^(\d+)\.pickle\.pbz2$")
SCHEDULES = {"12": 12, "200": 200}
CHUNK = 256  # architecture files per worker task
MAX_WORKERS = 8

SOURCE = Source(
    name="nb201_nats_tss",
    space="nb201",
    title="NATS-Bench topology: per-seed accuracies, losses, times, params, FLOPs, latency",
    upstream=f"D-X-Y/NATS-Bench release {ARCHIVE}.tar (Google Drive)",
    version="NATS-Bench tss v1.0 (3ffb9), 12- and 200-epoch schedules",
    licence="MIT",
    subdir=f"nb201/{ARCHIVE}",
    files=(META,),
    priority=12,
    user_supplied=True,
)


def load(path: Path) -> Any:
    """One bz2-compressed pickle, through the restricted unpickler."""
    raw = read_bytes(require(path))
    try:
        data = bz2.decompress(raw)
    except (OSError, EOFError, ValueError) as exc:
        raise IngestError(f"{path}: not a readable bz2 file ({exc})") from None
    return loads(data, path, allowed=RESULT_CLASSES)


def archive_dir(path: Path) -> Path:
    """The archive itself, also when ``path`` is the directory that holds it."""
    if (path / META).exists():
        return path
    if (path / ARCHIVE / META).exists():
        return path / ARCHIVE
    raise IngestError(f"{path / META}: file not found (expected the unpacked {ARCHIVE} here)")


def arch_files(path: Path) -> dict[int, Path]:
    found: dict[int, Path] = {}
    for f in sorted(path.iterdir()):
        match = ARCH_FILE.match(f.name)
        if not match:
            continue
        index = int(match.group(1))
        if index >= SIZE:
            raise IngestError(f"{f}: index {index} is outside the {SIZE} NB201 cells")
        if index in found:
            raise IngestError(f"{f}: architecture {index} is already in {found[index].name}")
        found[index] = f
    if not found:
        raise IngestError(f"{path}: no architecture files (000000.pickle.pbz2 ...) beside {META}")
    return found


def _read_files(source: str, items: list[tuple[int, Path, str]]) -> Rows:
    """Rows of some architecture files: ``(index, file, official arch string)``."""
    rows = Rows(source)
    for index, f, official in items:
        add_schedules(rows, f, index, load(f), SCHEDULES, official)
    return rows


def read(path: Path) -> SourceData:
    path = archive_dir(path)
    meta = load(path / META)
    if not isinstance(meta, dict) or "meta_archs" not in meta:
        raise IngestError(f"{path / META}: expected a dict with 'meta_archs'")
    official = check_meta_archs(meta["meta_archs"], path / META)
    files = arch_files(path)
    items = [(index, f, official[index]) for index, f in files.items()]
    chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
    workers = min(MAX_WORKERS, os.cpu_count() or 1, len(chunks))
    rows = Rows(SOURCE.name)
    if workers <= 1:
        for chunk in chunks:
            rows.merge(_read_files(SOURCE.name, chunk))
    else:  # bz2 and unpickling are CPU-bound: one process per core, chunks in index order
        # spawn, not fork: the parent may run DuckDB threads, which fork does not copy safely
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            for part in pool.map(_read_files, [SOURCE.name] * len(chunks), chunks):
                rows.merge(part)
        except BrokenProcessPool as exc:
            raise IngestError(
                f"{path}: a worker process reading the archive died ({exc})"
            ) from None
        finally:
            pool.shutdown(cancel_futures=True)
    return SourceData(rows.table(), [path / META, *files.values()])
