"""NAS-Bench-201 v1.0 / v1.1: the single benchmark file of the original NB201 API.

``NAS-Bench-201-v1_0-e61699.pth`` (2020-02, about 2.1 GB) and its successor
``NAS-Bench-201-v1_1-096897.pth`` (2020-03, about 4.7 GB) are ``torch.save`` output of one
dict:

- ``meta_archs``: the 15,625 arch strings in index order
- ``arch2infos``: index -> ``{'less': …, 'full': …}``, the ArchResults state dicts of the
  12-epoch (``less``) and 200-epoch (``full``) schedules, trained weights removed
  (:mod:`nasdb.loaders.nb201_results` describes them and how they become rows)
- ``evaluated_indexes``: the indices trained

Per the API's notes, v1.0 trained 6,219 cells once, 1,621 twice and 7,785 three times on
the 200-epoch schedule, and its 12-epoch results cover only ``cifar10-valid``; v1.1 trained
7,961 cells three times and gives the 12-epoch schedule on every dataset (``cifar10-valid``
twice). When a directory holds both files, v1.1 is read; the provenance records which.

Both files predate PyTorch 1.6, so they are in torch's legacy format: five pickles in a
row (the torch magic number, protocol version 1001, a dict of system facts, the object,
then the list of tensor storages that follow, empty here). Files re-saved by a newer
torch are a zip archive whose ``*/data.pkl`` holds the object; both are read without torch
through the restricted unpickler, streaming from disk. Reading v1.1 needs memory for the
whole unpickled dict, as the upstream API does. A file holding tensors (trained weights)
is refused: its pickle names torch classes or storages the format here does not allow.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from nasdb.loaders.base import Source, SourceData
from nasdb.loaders.nb201_results import RESULT_CLASSES, Rows, add_schedules, check_meta_archs

from nasdb.errors import IngestError
from nasdb.safe_pickle import load_stream
from nasdb.spaces.nb201 import SIZE

FILES = ("NAS-Bench-201-v1_1-096897.pth", "NAS-Bench-201-v1_0-e61699.pth")
SCHEDULES = {"less": 12, "full": 200}
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_PROTOCOL = 1001
ZIP_MAGIC = b"PK\x03\x04"

SOURCE = Source(
    name="nb201_v1_pth",
    space="nb201",
    title="NAS-Bench-201 v1.x benchmark file: per-seed accuracies, losses, params, FLOPs",
    upstream="D-X-Y/NAS-Bench-201 release files (Google Drive)",
    version="NAS-Bench-201 v1.1 (096897) or v1.0 (e61699), 12- and 200-epoch schedules",
    licence="MIT",
    subdir="nb201/nas_bench_201",
    files=FILES,
    priority=6,
    user_supplied=True,
)


def _next(stream: BinaryIO, path: Path) -> Any:
    return load_stream(stream, path, allowed=RESULT_CLASSES)


def _legacy(stream: BinaryIO, path: Path) -> Any:
    magic = _next(stream, path)
    if magic != TORCH_MAGIC:
        raise IngestError(f"{path}: not a torch file (no torch.save magic number at its start)")
    protocol = _next(stream, path)
    if protocol != TORCH_PROTOCOL:
        raise IngestError(f"{path}: torch legacy protocol {protocol!r}, expected 1001")
    _next(stream, path)  # system facts: byte order and C type sizes, which only tensors need
    obj = _next(stream, path)
    storages = _next(stream, path)
    if storages != []:
        raise IngestError(f"{path}: holds tensor storages; expected a file without weights")
    return obj


def _zipped(stream: BinaryIO, path: Path) -> Any:
    try:
        with zipfile.ZipFile(stream) as zf:
            names = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
            if len(names) != 1:
                raise IngestError(f"{path}: torch zip file without exactly one data.pkl")
            with zf.open(names[0]) as member:
                return _next(member, path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise IngestError(f"{path}: not a readable torch zip file ({exc})") from None


def load(path: Path) -> Any:
    """The saved object of a torch file in either format, without torch."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4)
            stream.seek(0)
            return _zipped(stream, path) if head == ZIP_MAGIC else _legacy(stream, path)
    except FileNotFoundError:
        raise IngestError(f"{path}: file not found") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read ({exc})") from None


def benchmark_file(path: Path) -> Path:
    for name in FILES:
        if (path / name).is_file():
            return path / name
    raise IngestError(f"{path / FILES[0]}: file not found (nor {FILES[1]})")


def read(path: Path) -> SourceData:
    f = benchmark_file(path)
    obj = load(f)
    if not isinstance(obj, dict):
        raise IngestError(f"{f}: holds a {type(obj).__name__}, expected a dict")
    missing = [k for k in ("meta_archs", "arch2infos", "evaluated_indexes") if k not in obj]
    if missing:
        raise IngestError(f"{f}: missing key(s) {', '.join(missing)} in the benchmark dict")
    official = check_meta_archs(obj["meta_archs"], f)
    infos = obj["arch2infos"]
    if not isinstance(infos, dict) or not infos:
        raise IngestError(f"{f}: arch2infos is empty or not a dict")
    rows = Rows(SOURCE.name)
    for index in sorted(infos, key=lambda k: (not isinstance(k, int), str(k))):
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < SIZE:
            raise IngestError(f"{f}: arch2infos key {index!r} is not an index 0..{SIZE - 1}")
        add_schedules(rows, f, index, infos[index], SCHEDULES, official[index])
    return SourceData(rows.table(), [f])
