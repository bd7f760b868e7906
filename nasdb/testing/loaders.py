"""``check_loader``: the checklist a loader passes before its source joins the catalog.

A loader reads upstream files into rows of the common schema (``nasdb.loaders.base``).
``check_loader`` ingests its real files once, through ``nasdb ingest`` as a user would, and
checks what every loader owes the rest of nasdb:

- the row count is the one its dataset card (``datasets/<name>.md``) states;
- every row carries the source's provenance, a canonical ``arch_id`` for its
  ``arch_index``, one unit per metric, a value in the metric's physical range, and a key
  no other row repeats; the ``sources`` view records each input file's bytes and sha256;
- a missing, truncated, corrupt or wrong-schema input file, and for pickle formats a
  pickle whose ``__reduce__`` would call ``os.system``, each give one error line naming
  the file, exit status 2, no traceback, and leave the catalog byte-identical.

Damaged inputs are small: each case builds a directory of links to the real files in
which only the damaged file is a private copy, so no case copies a whole source or
ingests the real files again. Loader-specific facts (row counts of synthetic inputs,
published values) come in as arguments; :meth:`LoaderCheck.fails` runs a loader's own
damage cases the same way.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import nasdb

CARDS = Path(nasdb.__file__).resolve().parents[1] / "datasets"
GARBAGE = b"\x00\xff garbage \xfe" * 3 + b"\x00" * 7  # 40 bytes: not text, not a pickle


@dataclass(frozen=True)
class Known:
    """One published value the ingested catalog must answer through ``lookup``."""

    arch: Any
    metric: str
    value: float
    task: str | None = None
    fidelity: int | None = None
    device: str | None = None
    seed: int | None = None
    rel: float = 1e-6


@dataclass
class LoaderCheck:
    """One source's real files, and a catalog holding them after one real ingest."""

    name: str
    source: Path  # the directory holding the source's files
    workdir: Path
    root: Path | None = None  # what ``--source`` names; None: the installed package
    home: Path = field(init=False)
    cases: list[str] = field(default_factory=list)  # damage cases that failed cleanly

    def __post_init__(self) -> None:
        from nasdb import loaders

        self.module = loaders.get(self.name)
        self.home = self.workdir / "home"
        self._stats = _stats(self.source)

    @cached_property
    def db(self):
        from nasdb import connect

        return connect(self.home)

    def ingest(self) -> int:
        """The one real ingest; returns the row count the CLI reports."""
        where = ["--source", str(self.root)] if self.root is not None else []
        result = _cli("ingest", self.name, *where, "--home", str(self.home))
        assert result.exit_code == 0, f"{self.name}: ingest of real files failed\n{result.output}"
        match = re.search(rf"^{self.name}: ([\d,]+) rows", result.stdout, re.MULTILINE)
        assert match, f"{self.name}: ingest printed no row count: {result.stdout!r}"
        return int(match.group(1).replace(",", ""))

    def fails(self, file: str, edit: Callable[[Path], object], *needles: str) -> str:
        """Ingest from a copy of the source whose ``file`` was changed by ``edit(path)``.

        ``file`` (relative to the source directory; a directory makes every file below it
        private) is a private copy, every other file a link to the real one. The ingest
        must fail with one error line holding ``needles`` and leave :attr:`home` as it was.
        """
        root = Path(tempfile.mkdtemp(prefix="case-", dir=self.workdir))
        below = root / self.module.SOURCE.subdir
        below.parent.mkdir(parents=True, exist_ok=True)
        _link_tree(self.source, below, self.source / file)
        (below / file).parent.mkdir(parents=True, exist_ok=True)  # for a file the edit adds
        try:
            edit(below / file)
            assert _stats(self.source) == self._stats, f"{file}: the edit changed the real files"
            return ingest_fails(self.name, root, self.home, *needles)
        finally:
            shutil.rmtree(root)

    def damage(self, file: str, label: str, data: Callable[[bytes], bytes], *needles: str) -> None:
        """One generic damage case: ``file``'s bytes replaced by ``data(real bytes)``."""
        self.fails(file, lambda path: path.write_bytes(data(path.read_bytes())), *needles)
        self.cases.append(f"{label}:{file}")


def check_loader(
    name: str,
    root: str | os.PathLike | None = None,
    workdir: str | os.PathLike | None = None,
    *,
    rows: int | None = None,
    known: Iterable[Known] = (),
    targets: Sequence[str] | None = None,
    optional: Sequence[str] = (),
    other_schema: Callable[[str, bytes], bytes] | None = None,
) -> LoaderCheck:
    """Run the checklist on source ``name``; an AssertionError names the first broken rule.

    ``root`` is a data root such as ``../shared/data`` or the source's own directory;
    without it a packaged source is ingested as users do, from its installed package.
    ``workdir`` is an empty directory for the catalog and the damaged copies. ``rows`` is
    the expected row count, by default the one the dataset card states. ``known`` values
    must come back through ``lookup``. ``targets`` are the files truncated, corrupted,
    replaced by another schema and, for pickle formats, by a hostile pickle: by default
    the first file the source reads;
    ``other_schema(file, real_bytes)`` makes the other-schema file for a format the kit
    does not know. The first and the last file of ``SOURCE.files`` but ``optional`` ones
    are deleted in turn (a source nasdb computes itself has no input to damage and gets
    the ingest, provenance and value checks only). Returns the check, whose ``home`` and
    ``db`` hold the ingested source for the loader's own fact tests and whose ``fails``
    runs its own damage cases.
    """
    from nasdb import loaders
    from nasdb.catalog import source_dir

    module = loaders.get(name)
    directory = source_dir(module.SOURCE, root)
    workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix=name))
    check = LoaderCheck(name, directory, workdir, None if root is None else Path(root))
    reported = check.ingest()
    expected = rows if rows is not None else card_rows(name)
    assert expected is not None, f"{name}: its card states no row count; pass rows="
    assert reported == expected, f"{name}: ingest stored {reported:,} rows, expected {expected:,}"
    _check_rows(check, expected)
    _check_provenance(check)
    _check_known(check, known)
    if module.SOURCE.package == "nasdb":
        return check  # computed by nasdb's own code: no input file to damage
    present = [f for f in module.SOURCE.files if (directory / f).is_file()]
    assert present, f"{name}: none of its files {module.SOURCE.files} is in {directory}"
    required = [f for f in present if f not in optional]
    for file in dict.fromkeys(required[:1] + required[-1:]):
        check.fails(file, Path.unlink, Path(file).name)
        check.cases.append(f"missing:{file}")
    for file in targets if targets is not None else present[:1]:
        _damage(check, file, other_schema or _other_schema)
    return check


def card_rows(name: str) -> int | None:
    """The row count a source's dataset card states; None where it says ``unknown``."""
    card = CARDS / f"{name}.md"
    assert card.is_file(), f"{name}: no dataset card at {card}; pass rows="
    match = re.search(
        r"^\| rows in the catalog \| ([\d,]+|unknown) \|$", card.read_text(), re.MULTILINE
    )
    assert match, f"{card}: no '| rows in the catalog | N |' line"
    return None if match.group(1) == "unknown" else int(match.group(1).replace(",", ""))


# edits for a loader's own damage cases -----------------------------------------------------
def lines(change: Callable[[list[str]], Any]) -> Callable[[Path], None]:
    """An edit for :meth:`LoaderCheck.fails`: ``change`` a text file's lines in place, or
    return a new list of lines."""

    def edit(path: Path) -> None:
        text = path.read_text().splitlines()
        new = change(text)
        path.write_text("\n".join(new if isinstance(new, list) else text) + "\n")

    return edit


def json_doc(change: Callable[[Any], object]) -> Callable[[Path], None]:
    """An edit for :meth:`LoaderCheck.fails`: ``change`` a JSON document in place."""

    def edit(path: Path) -> None:
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    return edit


# the one-line failure contract -----------------------------------------------------------
def snapshot(home: Path) -> dict[str, str]:
    """sha256 of every file under ``home``: equal snapshots mean byte-identical catalogs."""
    if not home.exists():
        return {}
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def ingest_fails(name: str, source: Path, home: Path, *needles: str) -> str:
    """``nasdb ingest`` must fail with one error line naming the problem, exit status 2, no
    traceback, and leave ``home`` byte-identical. Returns the line."""
    before = snapshot(home)
    result = _cli("ingest", name, "--source", str(source), "--home", str(home), catch=True)
    assert result.exit_code == 2, f"exit status {result.exit_code}, expected 2\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("nasdb: error:")]
    assert len(lines) == 1, f"expected one error line, got:\n{result.stderr}"
    assert "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert snapshot(home) == before, f"{home}: the failed ingest changed the catalog"
    return lines[0]


# the checks ------------------------------------------------------------------------------
def _check_rows(check: LoaderCheck, expected: int) -> None:
    import numpy as np

    from nasdb import spaces, validate

    space_name = check.module.SOURCE.space
    db = check.db
    where = {"s": check.name}
    n, foreign, nan = db.sql(
        "SELECT count(*), count(*) FILTER (WHERE space <> $sp), "
        "count(*) FILTER (WHERE isnan(value)) FROM evaluations WHERE source = $s",
        params={**where, "sp": space_name},
    ).fetchall()[0]
    assert n == expected, f"{check.name}: the catalog holds {n:,} rows, expected {expected:,}"
    assert foreign == 0, f"{check.name}: {foreign} rows name a space other than {space_name!r}"
    assert nan == 0, f"{check.name}: {nan} NaN values stored (a missing value is no row)"
    repeated = db.sql(
        "SELECT arch_index, task, device, metric, fidelity, seed, count(*) AS n FROM evaluations "
        "WHERE source = $s GROUP BY ALL HAVING n > 1 LIMIT 1",
        params=where,
    ).fetchall()
    assert not repeated, f"{check.name}: key stored more than once: {repeated[0]}"
    for metric, units in db.sql(
        "SELECT metric, list(DISTINCT unit) FROM evaluations WHERE source = $s GROUP BY metric",
        params=where,
    ).fetchall():
        assert len(units) == 1, f"{check.name}: metric {metric!r} in units {units}"
        low, high = db.sql(
            "SELECT min(value), max(value) FROM evaluations WHERE source = $s AND metric = $m",
            params={**where, "m": metric},
        ).fetchall()[0]
        allowed = validate.value_range(metric, units[0])
        if low is not None:
            assert allowed.low <= low and high <= allowed.high, (
                f"{check.name}: {metric} ranges {low:g}..{high:g}, outside {allowed.describe()}"
            )
    pairs = db.sql(
        "SELECT DISTINCT arch_index, arch_id FROM evaluations WHERE source = $s ORDER BY 1",
        params=where,
    ).fetchnumpy()
    index = pairs["arch_index"]
    space = spaces.get(space_name)
    assert len(np.unique(index)) == len(index), f"{check.name}: an arch_index with two arch_ids"
    assert index.min() >= 0 and index.max() < space.size, f"{check.name}: arch_index outside"
    canonical = np.asarray(space.arch_ids(index), dtype=object)
    wrong = np.flatnonzero(canonical != np.asarray(pairs["arch_id"], dtype=object))
    assert not len(wrong), (
        f"{check.name}: arch_index {index[wrong[0]]} stored as {pairs['arch_id'][wrong[0]]!r}, "
        f"canonical {canonical[wrong[0]]!r}"
    )


def _check_provenance(check: LoaderCheck) -> None:
    from nasdb.manifest import sha256

    source = check.module.SOURCE
    row = check.db.sql(
        "SELECT space, title, upstream, version, licence, rows, files FROM sources WHERE name = $s",
        params={"s": check.name},
    ).fetchall()
    assert len(row) == 1, f"{check.name}: {len(row)} rows in the sources view, expected 1"
    space, title, upstream, version, licence, rows, files = row[0]
    want = (source.space, source.title, source.upstream, source.version, source.licence)
    assert (space, title, upstream, version, licence) == want, f"{check.name}: provenance differs"
    n = check.db.sql("SELECT count(*) FROM evaluations WHERE source = $s", params={"s": check.name})
    assert rows == n.fetchall()[0][0], f"{check.name}: sources.rows {rows} is not its row count"
    assert files, f"{check.name}: the sources view lists no input file"
    for f in files:
        path = check.source / f["path"]
        assert path.is_file(), f"{check.name}: input {f['path']} is not in {check.source}"
        assert (f["bytes"], f["sha256"]) == (path.stat().st_size, sha256(path)), (
            f"{check.name}: bytes or sha256 of {f['path']} differ from the file"
        )


def _check_known(check: LoaderCheck, known: Iterable[Known]) -> None:
    import math

    db = check.db
    for k in known:
        options = {"task": k.task, "fidelity": k.fidelity, "device": k.device, "seed": k.seed}
        got = db.lookup(
            check.module.SOURCE.space,
            [k.arch],
            metric=k.metric,
            **{key: v for key, v in options.items() if v is not None},
        )[0]
        assert math.isclose(got, k.value, rel_tol=k.rel), f"{check.name}: {k} answers {got}"


# generic damage --------------------------------------------------------------------------
class HostilePickle:
    """Pickles as a call of ``os.system``: what a hostile benchmark file would hold."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def torch_zip(payload: bytes) -> bytes:
    """Bytes laid out like ``torch.save`` output, with ``payload`` as its pickle."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", b"3\n")
    return buf.getvalue()


def _archive(member: str, data: bytes, gz: bool) -> bytes:
    buf = io.BytesIO()
    if gz:
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    else:
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(member, data)
    return buf.getvalue()


# How each upstream format wraps a pickle: (suffixes, wrap). None: not a pickle format.
PICKLE_FORMATS: tuple[tuple[tuple[str, ...], Callable[[bytes], bytes]], ...] = (
    ((".pkl.gz",), gzip.compress),
    ((".pbz2",), bz2.compress),
    ((".pt", ".pth"), torch_zip),
    ((".pd", ".pkl", ".pickle", ".bench", ".anb"), lambda b: b),
)
FOREIGN = {"unexpected": [1.0, 2.0, 3.0]}  # valid data of some other schema


def pickle_wrap(file: str) -> Callable[[bytes], bytes] | None:
    return next((wrap for suffixes, wrap in PICKLE_FORMATS if file.endswith(suffixes)), None)


def _corrupt(real: bytes, at: int) -> bytes:
    return real[:at] + GARBAGE + real[at + len(GARBAGE) :]


def _other_schema(file: str, real: bytes) -> bytes:
    """A readable file of ``file``'s format that holds something else."""
    wrap = pickle_wrap(file)
    if wrap is not None:
        return wrap(pickle.dumps(FOREIGN, protocol=4))
    if file.endswith(".csv"):
        header, _, body = real.partition(b"\n")
        renamed = b",".join(c.strip() + b"_renamed" for c in header.split(b","))
        return renamed + b"\n" + body
    if file.endswith(".json"):
        return json.dumps(FOREIGN if real.lstrip()[:1] == b"{" else [FOREIGN]).encode()
    if file.endswith(".tar.gz"):
        return _archive("unexpected.json", json.dumps(FOREIGN).encode(), gz=True)
    if file.endswith(".zip"):
        return _archive("unexpected.json", json.dumps(FOREIGN).encode(), gz=False)
    raise AssertionError(f"{file}: no generic other-schema file for this format; add a case")


def _damage(check: LoaderCheck, file: str, other_schema: Callable[[str, bytes], bytes]) -> None:
    """Truncated, corrupt, other-schema and (pickle formats) hostile versions of ``file``."""
    name = Path(file).name
    check.damage(file, "truncated", lambda real: real[: len(real) // 2], name)
    check.damage(file, "corrupt", lambda real: _corrupt(real, len(real) // 3), name)
    check.damage(file, "other_schema", lambda real: other_schema(file, real), name)
    wrap = pickle_wrap(file)
    if wrap is None:
        return
    marker = check.workdir / "hostile-pickle-ran"
    payload = pickle.dumps(HostilePickle(f"touch {marker}"), protocol=2)
    check.damage(file, "hostile_pickle", lambda real: wrap(payload), name, "system")
    assert not marker.exists(), f"{check.name}: loading {file} ran the pickle's os.system"


# helpers -----------------------------------------------------------------------------------
def _cli(*args: str, catch: bool = False):
    from click.testing import CliRunner

    from nasdb.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=catch)


def _stats(directory: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file below ``directory``: what an edit must not change."""
    return {
        str(p): (s.st_size, s.st_mtime_ns)
        for p in directory.rglob("*")
        if p.is_file() and (s := p.stat())
    }


def _link_tree(source: Path, target: Path, private: Path) -> None:
    """``target`` mirrors ``source``: ``private`` (a file, or a directory and all below it) is
    copied, and whatever holds no part of it is one link, so that a case costs a few links
    however many files a source has (EC-NAS has thousands)."""
    if source == private or private in source.parents:
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.exists():
            shutil.copyfile(source, target)
    elif source in private.parents:
        target.mkdir()
        for entry in source.iterdir():
            _link_tree(entry, target / entry.name, private)
    else:
        target.symlink_to(source, target_is_directory=source.is_dir())
