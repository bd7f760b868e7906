"""Accel-NASBench's training data: one JSON result per trained MnasNet-space network.

``anb_dataset_jsons.tar.gz`` holds ``anb_dataset_jsons/result_<n>.json``, 5,138 results
of 5,125 distinct architectures (13 were trained twice: results 0-13 but 9 again as
443-455). The archive is unpacked in memory; nothing is extracted to disk.

Each result gives the architecture (``block<i>_{e,k,l,se}``), ImageNet top-1/top-5
validation accuracy after Accel-NASBench's proxified training (``metrics.val_top1``,
``val_top5``, single run), the training wall time (``train_time``, seconds), MACs and
parameters in millions (``model_info``), and per accelerator the mean and standard
deviation of inference throughput (images/s) on A100 and RTX 3090 GPUs, TPUv2 and TPUv3,
and Xilinx ZCU102 and VCK190 FPGAs, plus latency (ms) on the two FPGAs. Upstream leaves a
measurement ``null`` where it failed (for example 44 TPUv3 throughputs); that is no row.

Rows: ``seed`` NULL holds the value of the architecture, the mean of its runs where it
was trained twice; those 13 architectures also get one row per run with ``seed`` 0 and 1
in result-number order (upstream records no seeds). ``flops`` are the upstream MACs
(multiply-accumulates), the same count NAS-Bench-201 and NAS-Bench-Macro call FLOPs.
``fidelity`` is NULL: the files do not record how many epochs the training proxy ran.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import zlib
from itertools import chain
from pathlib import Path

import numpy as np
from nasdb.loaders.base import (
    Source,
    SourceData,
    concat,
    evaluations,
    expect_rows,
    printable,
    require,
)

from nasdb.errors import IngestError, UnknownName
from nasdb.spaces.accel import CONFIG_KEYS, code_of_config, codes_of_rows

SPACE = "accel"
ARCHIVE = "anb_dataset_jsons.tar.gz"
RESULTS = 5_138
ARCHITECTURES = 5_125  # distinct networks among the results
TASK = "imagenet"
PROXY_EPOCHS: int | None = None  # not recorded in the files
MEMBER = re.compile(r"(?:\./)?anb_dataset_jsons/result_(\d+)\.json")
MAX_MEMBER_BYTES = 1 << 20  # results are ~1.3 kB; anything huge is not one
MAX_ARCHIVE_BYTES = 1 << 28
# upstream device suffix -> nasdb device name
DEVICES = {
    "a100": "a100",
    "3090": "rtx3090",
    "tpuv2": "tpuv2",
    "tpuv3": "tpuv3",
    "zcu102": "zcu102",
    "vck190": "vck190",
}
LATENCY_DEVICES = ("zcu102", "vck190")
PERF = [("throughput", d) for d in DEVICES] + [("latency", d) for d in LATENCY_DEVICES]
PERF_UNITS = {"throughput": "img/s", "latency": "ms"}
# (section, field) -> (metric, unit, fidelity, per-run rows)
SCALARS = {
    ("metrics", "val_top1"): ("valid_accuracy", "%", PROXY_EPOCHS, True),
    ("metrics", "val_top5"): ("valid_top5_accuracy", "%", PROXY_EPOCHS, True),
    ("metrics", "train_time"): ("train_time", "s", PROXY_EPOCHS, True),
    ("model_info", "macs"): ("flops", "M", None, False),
    ("model_info", "params"): ("params", "M", None, False),
}
SECTIONS = ("architecture", "metrics", "model_info", "platform_perf")
STATS = ("mean", "std")

SOURCE = Source(
    name="accel",
    space=SPACE,
    title="Accel-NASBench: ImageNet accuracy (training proxy), train time, MACs and "
    "throughput/latency on GPUs, TPUs and FPGAs of MnasNet-space networks",
    upstream="afzalxo/Accel-NASBench@4260357 anb_dataset/anb_dataset_jsons.tar.gz",
    version="Accel-NASBench dataset, 5,138 results",
    licence="Apache-2.0",
    subdir="accel_nasbench",
    files=(ARCHIVE,),
)


def _members(path: Path) -> list[tuple[int, str, bytes]]:
    """``(result number, member name, bytes)`` of every result, refusing anything else."""
    require(path)
    out = []
    try:
        # One decompression up front is much faster than tarfile seeking in a gzip stream.
        with gzip.GzipFile(fileobj=io.BytesIO(path.read_bytes())) as stream:
            data = stream.read(MAX_ARCHIVE_BYTES + 1)
        if len(data) > MAX_ARCHIVE_BYTES:
            raise IngestError(
                f"{path}: unpacks to more than {MAX_ARCHIVE_BYTES:,} bytes, expected ~10 MB"
            )
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar:
                if member.isdir():
                    continue
                match = MEMBER.fullmatch(member.name)
                if not member.isfile() or match is None:
                    raise IngestError(
                        f"{path}: member {member.name!r} is not a result file; expected only "
                        "regular files anb_dataset_jsons/result_<n>.json"
                    )
                if member.size > MAX_MEMBER_BYTES:
                    raise IngestError(
                        f"{path}: member {member.name} has {member.size:,} bytes, "
                        f"expected a result of at most {MAX_MEMBER_BYTES:,}"
                    )
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file always has one
                out.append((int(match[1]), member.name, handle.read()))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise IngestError(
            f"{path}: not a readable tar.gz archive ({printable(str(exc)) or type(exc).__name__})"
        ) from None
    return out


def _number(value, where: str, nullable: bool) -> float:
    if value is None and nullable:
        return np.nan
    try:
        number = float(value) if isinstance(value, (int, float)) else None
    except OverflowError:  # an integer beyond float range
        number = None
    if isinstance(value, bool) or number is None or not np.isfinite(number):
        raise IngestError(f"{where} is {printable(repr(value))}, expected a finite number")
    return number


def _section(record: dict, name: str, keys, where: str) -> dict:
    section = record.get(name)
    if not isinstance(section, dict) or not set(keys) <= set(section):
        got = sorted(section) if isinstance(section, dict) else type(section).__name__
        raise IngestError(f"{where}: {name} holds {got}, expected {', '.join(keys)}")
    return section


def _decode(path: Path, name: str, data: bytes) -> dict:
    try:
        record = json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise IngestError(f"{path}: {name}: not valid JSON ({printable(str(exc))})") from None
    if not isinstance(record, dict) or record.keys() != set(SECTIONS):
        got = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise IngestError(
            f"{path}: {name}: holds {got}, expected the sections {', '.join(SECTIONS)}"
        )
    return record


def _decode_all(path: Path, members: list[tuple[int, str, bytes]]) -> list[dict]:
    """All results, parsed as one JSON array; one by one only to name a broken member."""
    try:
        records = json.loads(b"[" + b",".join(data for _, _, data in members) + b"]")
    except (ValueError, RecursionError):
        records = None
    if (
        records is None
        or len(records) != len(members)
        or not all(isinstance(r, dict) and r.keys() == set(SECTIONS) for r in records)
    ):
        records = [_decode(path, name, data) for _, name, data in members]
    return records


def _parse(path: Path, name: str, record: dict) -> tuple[int, list[float]]:
    """Space code and values (SCALARS order, then mean and std of each PERF) of one result.

    The strict, slow reading: it names the first field that is not as expected.
    """
    where = f"{path}: {name}"
    try:
        code = code_of_config(record["architecture"])
    except UnknownName as exc:
        raise IngestError(f"{where}: {str(exc).removeprefix('accel: ')}") from None
    values = []
    for section, field in SCALARS:
        fields = _section(record, section, [f for s, f in SCALARS if s == section], where)
        values.append(_number(fields[field], f"{where}: {section}.{field}", nullable=False))
    perf = _section(record, "platform_perf", [f"{m}_{d}" for m, d in PERF], where)
    for metric, device in PERF:
        key = f"{metric}_{device}"
        stats = _section(perf, key, [f"{metric}_mean", f"{metric}_std"], f"{where}: platform_perf")
        for stat in STATS:
            label = f"{where}: platform_perf.{key}.{metric}_{stat}"
            values.append(_number(stats[f"{metric}_{stat}"], label, nullable=True))
    return code, values


def _table(records: list[dict]) -> tuple[np.ndarray, np.ndarray] | None:
    """The same as ``_parse`` for all results at once; None if anything is unusual."""
    try:
        archs = [[r["architecture"][k] for k in CONFIG_KEYS] for r in records]
        scalars = [[r[s][f] for s, f in SCALARS] for r in records]
        perf = [
            [r["platform_perf"][f"{m}_{d}"][f"{m}_{stat}"] for m, d in PERF for stat in STATS]
            for r in records
        ]
    except (KeyError, TypeError):
        return None
    if any(len(r["architecture"]) != len(CONFIG_KEYS) for r in records):
        return None
    codes = codes_of_rows(archs)
    kinds = set(map(type, chain.from_iterable(scalars)))
    if (
        codes is None
        or not kinds <= {int, float}
        or not set(map(type, chain.from_iterable(perf))) <= {int, float, type(None)}
    ):
        return None
    try:
        values = np.hstack([np.array(scalars, dtype=float), np.array(perf, dtype=float)])
    except OverflowError:
        return None
    if np.isinf(values).any() or np.isnan(values[:, : len(SCALARS)]).any():
        return None
    if any(v != v for v in chain.from_iterable(perf)):  # a NaN literal, not a null
        return None
    return codes, values


def _check_ranges(path: Path, names: list[str], values: np.ndarray) -> None:
    """Accuracies are percentages, costs positive, spreads non-negative."""
    n_scalar = len(SCALARS)
    checks = [(values[:, :2], 0, 100, "accuracies in percent (0-100)")]
    checks.append((values[:, 2:n_scalar], 1e-12, np.inf, "positive train time, MACs, params"))
    checks.append((values[:, n_scalar::2], 1e-12, np.inf, "positive throughput/latency"))
    checks.append((values[:, n_scalar + 1 :: 2], 0, np.inf, "non-negative standard deviations"))
    for block, low, high, what in checks:
        bad = ~np.isnan(block) & ((block < low) | (block > high))
        if bad.any():
            row = int(np.flatnonzero(bad.any(axis=1))[0])
            raise IngestError(f"{path}: {names[row]} holds {block[bad][0]:g}, expected {what}")
    if len(values) and values[:, :2].max() <= 1:
        raise IngestError(f"{path}: accuracies are at most 1, expected percent, not fractions")


def read(path: Path) -> SourceData:
    f = path / ARCHIVE
    members = sorted(_members(f))
    expect_rows(f, len(members), RESULTS, "results")
    numbers = [n for n, _, _ in members]
    if len(set(numbers)) != len(numbers):
        raise IngestError(f"{f}: a result number appears twice (expected result_0 .. result_N)")
    names = [name for _, name, _ in members]
    records = _decode_all(f, members)
    fast = _table(records)
    if fast is None:  # something is off: the strict reading says what and where
        parsed = [_parse(f, name, record) for name, record in zip(names, records, strict=True)]
        fast = (
            np.array([c for c, _ in parsed], dtype=np.int64),
            np.array([v for _, v in parsed], dtype=np.float64),
        )
    codes, values = fast
    _check_ranges(f, names, values)

    # Every code is valid: both readings above refuse a choice outside the space.
    archs, index = np.unique(codes, return_inverse=True)
    if len(archs) != ARCHITECTURES:
        raise IngestError(
            f"{f}: {len(archs):,} distinct architectures, expected {ARCHITECTURES:,} (wrong file?)"
        )

    # run number of each result among the results of its architecture, in file order
    order = np.lexsort((np.arange(len(index)), index))
    first = np.searchsorted(index[order], index[order])
    run = np.empty(len(index), dtype=np.int64)
    run[order] = np.arange(len(index)) - first
    repeated = np.bincount(index, minlength=len(archs))[index] > 1

    columns = [
        (metric, unit, fid, None, per_run) for metric, unit, fid, per_run in SCALARS.values()
    ]
    for metric, device in PERF:
        for stat in ("", "_std"):
            columns.append((metric + stat, PERF_UNITS[metric], None, DEVICES[device], True))
    tables = []
    for col, (metric, unit, fidelity, device, per_run) in enumerate(columns):
        v = values[:, col]
        have = ~np.isnan(v)
        sums = np.bincount(index, weights=np.where(have, v, 0.0), minlength=len(archs))
        counts = np.bincount(index, weights=have.astype(float), minlength=len(archs))
        mean = np.divide(sums, counts, out=np.full(len(archs), np.nan), where=counts > 0)
        key = dict(task=TASK, metric=metric, unit=unit, fidelity=fidelity, device=device)
        tables.append(evaluations(SPACE, SOURCE.name, archs, mean, **key))
        if per_run:
            for seed in np.unique(run[repeated]):
                pick = repeated & (run == seed)
                tables.append(
                    evaluations(SPACE, SOURCE.name, codes[pick], v[pick], seed=int(seed), **key)
                )
    return SourceData(concat(tables), [f])
