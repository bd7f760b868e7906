"""The original NAS-Bench-101 release: `nasbench_full.tfrecord`, `nasbench_only108.tfrecord`.

Read without TensorFlow or protobuf. The file is TFRecord framing::

    uint64 length | uint32 masked CRC32C(length) | data | uint32 masked CRC32C(data)

(little-endian; "masked" is TensorFlow's rotate-right-by-15 plus 0xa282ead8). Every CRC is
checked, vectorised over blocks of records. Each ``data`` is a JSON list
``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]``: the nasbench hash,
the epoch budget (4, 12, 36 or 108), the adjacency as a string of n*n 0/1 characters, the
ops joined by commas, and a base64 ``ModelMetrics`` protobuf, decoded here by a small
wire-format reader for the fields nasbench defines::

    ModelMetrics   1: repeated EvaluationData   2: int32 trainable_parameters   3: double total_time
    EvaluationData 1: double current_epoch  2: double training_time  3: double train_accuracy
                   4: double validation_accuracy  5: double test_accuracy  6: string checkpoint_path

``evaluation_data`` holds three stages: at initialisation (unused, as in nasbench's API),
halfway and at the end of training. Rows (task cifar10):

- per repeat, ``seed`` = the repeat's position among its cell's records for that budget in
  file order (0..2, the order nasbench's API lists them): ``train_accuracy``,
  ``valid_accuracy``, ``test_accuracy`` (%) and ``train_time`` (s, device ``tpu_v2``)
  at the final stage with ``fidelity`` = the budget, and at the halfway stage with
  ``fidelity`` = the epoch it was taken at (2, 6, 18, 54): a point on the learning curve
  of the longer run, not a run with that budget
- ``seed`` NULL: the mean over the repeats of each of those, the number NB101 papers quote
- ``params`` (M) once per cell, the same in every record of the cell (checked)

Every hash must be a cell of the space; the adjacency and ops of up to
:data:`CHECKED_GRAPHS` cells, spread over the file, are hashed again to confirm they are.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from pathlib import Path

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations

from nasdb.errors import IngestError, UnknownName
from nasdb.spaces import get as get_space
from nasdb.spaces.nb101_cells import cell_hash

FULL, ONLY108 = "nasbench_full.tfrecord", "nasbench_only108.tfrecord"
BUDGETS = (4, 12, 36, 108)
DEVICE = "tpu_v2"
CHECKED_GRAPHS = 2_000
BLOCK = 1 << 16  # records whose CRCs are checked together
_MASK_DELTA = 0xA282EAD8
_STAGE_FIELDS = ("train_accuracy", "valid_accuracy", "test_accuracy", "train_time")
# EvaluationData field number -> column (1 current_epoch, 2 training_time, 3-5 accuracies)
_EVAL_FIELDS = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4}

SOURCE = Source(
    name="nb101_tfrecord",
    space="nb101",
    title="NAS-Bench-101 original release: per-repeat accuracies and training times",
    upstream="google-research/nasbench, nasbench_full.tfrecord / nasbench_only108.tfrecord",
    version="NAS-Bench-101 1.0",
    licence="Apache-2.0",
    subdir="nb101/tfrecord",
    files=(ONLY108, FULL),
    priority=10,
    user_supplied=True,
)


# -- CRC32C (Castagnoli), as TensorFlow masks it -------------------------------------------
def _crc_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0x82F63B78), table >> 1)
    return table.astype(np.uint32)


_TABLE = _crc_table()


def masked_crc32c(messages: list[bytes]) -> np.ndarray:
    """TensorFlow's masked CRC32C of every message, computed for all of them at once."""
    n = len(messages)
    lengths = np.fromiter(map(len, messages), dtype=np.int64, count=n)
    width = int(lengths.max()) if n else 0
    padded = np.zeros((n, width), dtype=np.uint8)
    flat = np.frombuffer(b"".join(messages), dtype=np.uint8)
    rows = np.repeat(np.arange(n), lengths)
    cols = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    padded[rows, cols] = flat
    crc = np.full(n, 0xFFFFFFFF, dtype=np.uint32)
    for j in range(width):
        step = _TABLE[(crc ^ padded[:, j]) & 0xFF] ^ (crc >> 8)
        crc = np.where(lengths > j, step, crc)
    crc ^= np.uint32(0xFFFFFFFF)
    return (((crc >> 15) | (crc << 17)) + np.uint32(_MASK_DELTA)).astype(np.uint32)


# -- framing ------------------------------------------------------------------------------
def read_records(path: Path) -> list[bytes]:
    """Every record's data, after checking both CRCs of every record."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: file not found") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read ({exc})") from None
    heads, datas, crcs = [], [], []
    pos, size = 0, len(raw)
    while pos < size:
        if pos + 12 > size:
            raise IngestError(f"{path}: ends inside the header of record {len(datas)}")
        head = raw[pos : pos + 8]
        (length,) = struct.unpack_from("<Q", raw, pos)
        end = pos + 12 + length + 4
        if end > size:
            raise IngestError(
                f"{path}: record {len(datas)} claims {length} bytes, more than the file has "
                "left (truncated or not a TFRecord file)"
            )
        heads.append((head, struct.unpack_from("<I", raw, pos + 8)[0]))
        datas.append(raw[pos + 12 : pos + 12 + length])
        crcs.append(struct.unpack_from("<I", raw, end - 4)[0])
        pos = end
    for start in range(0, len(datas), BLOCK):
        stop = min(start + BLOCK, len(datas))
        head_crc = masked_crc32c([h for h, _ in heads[start:stop]])
        bad = np.flatnonzero(head_crc != np.array([c for _, c in heads[start:stop]], np.uint32))
        if len(bad):
            raise IngestError(
                f"{path}: record {start + int(bad[0])}: length CRC32C does not match "
                "(corrupt, or not a TFRecord file)"
            )
        data_crc = masked_crc32c(datas[start:stop])
        bad = np.flatnonzero(data_crc != np.array(crcs[start:stop], dtype=np.uint32))
        if len(bad):
            raise IngestError(
                f"{path}: record {start + int(bad[0])}: data CRC32C does not match (corrupt file)"
            )
    return datas


# -- protobuf wire format -----------------------------------------------------------------
class _WireError(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _WireError("broken varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) of a message: ints, floats or bytes."""
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            if pos + 8 > n:
                raise _WireError("truncated double")
            (value,) = struct.unpack_from("<d", buf, pos)
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > n:
                raise _WireError("truncated field")
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            if pos + 4 > n:
                raise _WireError("truncated fixed32")
            (value,) = struct.unpack_from("<f", buf, pos)
            pos += 4
        else:
            raise _WireError(f"wire type {wire}")
        yield number, wire, value


def parse_metrics(buf: bytes) -> tuple[int, list[list[float]]]:
    """trainable_parameters and, per evaluation stage, [epoch, time, train, valid, test]."""
    params, stages = None, []
    for number, wire, value in _fields(buf):
        if number == 1:
            if wire != 2:
                raise _WireError("evaluation_data is not a message")
            stage = [float("nan")] * 5
            for n2, w2, v2 in _fields(value):
                if n2 in _EVAL_FIELDS:
                    if w2 != 1:
                        raise _WireError(f"EvaluationData field {n2} is not a double")
                    stage[_EVAL_FIELDS[n2]] = v2
            stages.append(stage)
        elif number == 2:
            if wire != 0:
                raise _WireError("trainable_parameters is not an integer")
            params = value
    if params is None:
        raise _WireError("no trainable_parameters")
    return params, stages


# -- records -> rows ------------------------------------------------------------------------
def _parse(path: Path, datas: list[bytes]):
    n = len(datas)
    hashes: list[str] = []
    epochs = np.empty(n, dtype=np.int64)
    params = np.empty(n, dtype=np.int64)
    halfway = np.empty((n, 5))
    final = np.empty((n, 5))
    graphs: dict[str, tuple[str, str]] = {}
    for r, data in enumerate(datas):
        where = f"{path}: record {r}"
        try:
            row = json.loads(data)
        except ValueError:
            raise IngestError(f"{where}: not a JSON list (wrong file?)") from None
        if not (
            isinstance(row, list)
            and len(row) == 5
            and all(isinstance(x, str) for x in (row[0], row[2], row[3], row[4]))
            and type(row[1]) is int
        ):
            raise IngestError(
                f"{where}: expected [module_hash, epochs, raw_adjacency, raw_operations, "
                "raw_metrics]"
            )
        h, epochs[r], adjacency, ops, raw = row
        if epochs[r] not in BUDGETS:
            raise IngestError(f"{where}: epoch budget {epochs[r]}, expected one of {BUDGETS}")
        try:
            params[r], stages = parse_metrics(base64.b64decode(raw, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise IngestError(
                f"{where}: raw_metrics is not a ModelMetrics protobuf ({exc})"
            ) from None
        if len(stages) != 3:
            raise IngestError(f"{where}: {len(stages)} evaluation stages, expected 3")
        halfway[r], final[r] = stages[1], stages[2]
        hashes.append(h)
        graphs.setdefault(h, (adjacency, ops))
    return hashes, epochs, params, halfway, final, graphs


def _check_graphs(path: Path, graphs: dict[str, tuple[str, str]]) -> None:
    keys = list(graphs)
    step = max(1, len(keys) // CHECKED_GRAPHS)
    for h in keys[::step]:
        adjacency, ops = graphs[h]
        names = ops.split(",")
        nv = len(names)
        if len(adjacency) != nv * nv or set(adjacency) - {"0", "1"}:
            raise IngestError(f"{path}: cell {h}: adjacency {adjacency!r} is not {nv}x{nv} 0/1")
        matrix = np.frombuffer(adjacency.encode(), dtype=np.uint8).reshape(nv, nv) - ord("0")
        try:
            got = cell_hash(matrix, names)
        except UnknownName as exc:
            raise IngestError(f"{path}: cell {h}: {exc}") from None
        if got != h:
            raise IngestError(f"{path}: cell {h}: its graph has the nasbench hash {got}")


def _group_mean(key: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=len(uniq))
    return uniq, sums / np.bincount(inverse, minlength=len(uniq))


def read(path: Path) -> SourceData:
    f = path / FULL if (path / FULL).is_file() else path / ONLY108
    if not f.is_file():
        raise IngestError(f"{path}: neither {FULL} nor {ONLY108} found")
    datas = read_records(f)
    if not datas:
        raise IngestError(f"{f}: holds no records")
    hashes, epochs, params, halfway, final, graphs = _parse(f, datas)
    try:
        index = get_space("nb101").indices_of_hashes(hashes)
    except UnknownName as exc:
        raise IngestError(f"{f}: {exc}") from None
    _check_graphs(f, graphs)
    if not (final[:, 0] == epochs).all():
        r = int(np.flatnonzero(final[:, 0] != epochs)[0])
        raise IngestError(f"{f}: record {r}: final stage at epoch {final[r, 0]}, not {epochs[r]}")
    for name, stage in (("halfway", halfway), ("final", final)):
        bad = ~np.isfinite(stage).all(axis=1) | (stage[:, 2:] < 0).any(axis=1)
        bad |= (stage[:, 2:] > 1).any(axis=1) | (stage[:, 1] < 0)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise IngestError(
                f"{f}: record {r}: {name} stage {stage[r].tolist()} is not epoch, seconds "
                "and three accuracy fractions"
            )
    half_epoch = halfway[:, 0]
    if not (np.round(half_epoch) == half_epoch).all() or (half_epoch >= epochs).any():
        r = int(np.flatnonzero((np.round(half_epoch) != half_epoch) | (half_epoch >= epochs))[0])
        raise IngestError(f"{f}: record {r}: halfway stage at epoch {half_epoch[r]}")

    # seed: position among the records of the same cell and budget, in file order
    key = index * 1000 + epochs
    order = np.argsort(key, kind="stable")
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    seed = np.empty(len(key), dtype=np.int64)
    seed[order] = np.arange(len(key)) - np.maximum.accumulate(
        np.where(first, np.arange(len(key)), 0)
    )
    size = get_space("nb101").size
    high = np.full(size, -1.0)
    np.maximum.at(high, index, params)
    low = np.full(size, np.inf)
    np.minimum.at(low, index, params)
    cells = np.unique(index)
    differ = np.flatnonzero(high[cells] != low[cells])
    if len(differ):
        c = int(cells[differ[0]])
        raise IngestError(
            f"{f}: cell {hashes[int(np.flatnonzero(index == c)[0])]}: its records differ in "
            "trainable_parameters"
        )

    tables = []
    units = ("%", "%", "%", "s")
    columns = (2, 3, 4, 1)
    for stage in (halfway, final):
        fidelity = stage[:, 0].astype(np.int64)
        for fid in np.unique(fidelity):
            at = fidelity == fid
            for metric, unit, col in zip(_STAGE_FIELDS, units, columns, strict=True):
                scale = 100.0 if unit == "%" else 1.0
                device = DEVICE if metric == "train_time" else None
                common = dict(task="cifar10", metric=metric, unit=unit, fidelity=int(fid))
                for s in np.unique(seed[at]):
                    sel = at & (seed == s)
                    tables.append(
                        evaluations(
                            "nb101",
                            SOURCE.name,
                            index[sel],
                            stage[sel, col] * scale,
                            seed=int(s),
                            device=device,
                            **common,
                        )
                    )
                mean_idx, mean = _group_mean(index[at], stage[at, col] * scale)
                tables.append(
                    evaluations("nb101", SOURCE.name, mean_idx, mean, device=device, **common)
                )
    tables.append(
        evaluations(
            "nb101", SOURCE.name, cells, low[cells] / 1e6, task="cifar10", metric="params", unit="M"
        )
    )
    return SourceData(concat(tables), [f])
