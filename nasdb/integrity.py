"""``nasdb verify`` and ``nasdb repair``: the catalog's files against its manifest.

verify checks every file the manifest names (present, bytes, sha256), every wide table
against the checksums of the files it was built from, and ``nasdb.duckdb`` against the
generation's files; each problem is one line naming the file, its source and the command
that fixes it. repair commits a generation that rebuilds what the remaining files hold
(wide tables, ``nasdb.duckdb``, architecture tables of spaces that describe every
architecture themselves), drops damaged runs and surrogates, and names the sources that
must be ingested again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nasdb import manifest
from nasdb.catalog import DUCKDB_FILE, Catalog, Transaction, space_views, wide_inputs
from nasdb.errors import NasdbError
from nasdb.manifest import sha256


@dataclass
class Problem:
    key: str | None  # the manifest entry, None for nasdb.duckdb and the manifest itself
    message: str

    def __str__(self) -> str:
        return self.message


def check(gen: manifest.Generation) -> list[Problem]:
    """Every problem of a generation's files."""
    out = []
    for key in sorted(gen.entries):
        problem = _file_problem(gen, key)
        if problem is not None:
            out.append(Problem(key, str(gen.damage(key, problem))))
    damaged = {p.key for p in out}
    out += _stale_wide(gen, damaged)
    problem = duckdb_problem(gen)
    if problem not in (None, LAGS):
        out.append(Problem(None, f"{DUCKDB_FILE} {problem}; fix: nasdb repair"))
    return out


def _file_problem(gen: manifest.Generation, key: str) -> str | None:
    table, stem = key.split("/", 1)
    entry = gen.entries[key]
    problem = gen.intact(table, stem)
    if problem is not None:
        return problem
    path = gen.home / entry["path"]
    if "files" in entry:
        for name, want in (entry["files"] or {}).items():
            f = path / name
            if not f.is_file():
                return f"lacks {name}"
            if f.stat().st_size != want["bytes"] or sha256(f) != want["sha256"]:
                return f"has a damaged {name} (its sha256 is not the manifest's)"
        return None
    if entry["sha256"] is None:  # adopted: no checksum yet, so read it whole
        return _unreadable(path)
    if sha256(path) != entry["sha256"]:
        return "is damaged (its sha256 is not the manifest's)"
    return None


def _unreadable(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        pq.read_table(path)
    except Exception as exc:
        return f"cannot be read ({type(exc).__name__})"
    return None


def _stale_wide(gen: manifest.Generation, damaged: set[str]) -> list[Problem]:
    out = []
    spaces_now = sorted({m["space"] for m in gen.sources.values()})
    for stem in gen.stems("wide"):
        if stem not in spaces_now:
            out.append(
                Problem(
                    f"wide/{stem}",
                    f"wide/{stem}: no source of space {stem} is left; fix: nasdb repair",
                )
            )
    for space in spaces_now:
        part = gen.only_space(space)
        if damaged & set(part.entries) or f"wide/{space}" in damaged:
            continue  # reported already, with its fix
        entry = gen.entry("wide", space)
        con, select = space_views(gen, space)
        con.close()
        if select is None:
            continue
        if entry is None:
            out.append(
                Problem(f"wide/{space}", f"the wide table of {space} is missing; fix: nasdb repair")
            )
        elif entry.get("built_from") != wide_inputs(gen, space, select):
            out.append(
                Problem(
                    f"wide/{space}",
                    f"catalog file {entry['path']} was not built "
                    f"from the {space} files of this generation (stale); "
                    "fix: nasdb repair",
                )
            )
    return out


_PATH = re.compile(r"'((?:[^']|'')*\.parquet)'")


def duckdb_problem(gen: manifest.Generation) -> str | None:
    """None if ``nasdb.duckdb`` holds views over exactly this generation's files."""
    import duckdb

    path = gen.home / DUCKDB_FILE
    if not gen.entries:
        return None
    if not path.is_file():
        return "is missing"
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            sqls = [
                r[0]
                for r in con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()
            ]
        finally:
            con.close()
    except duckdb.Error as exc:
        return f"cannot be opened ({str(exc).splitlines()[0]})"
    named = {m.replace("''", "'") for s in sqls for m in _PATH.findall(s)}
    want = {str(p) for t in manifest.TABLES for p in gen.files(t)}
    if named == want:
        return None
    if all(Path(p).is_file() for p in named):
        return LAGS  # a whole older generation, whose files are kept for its readers
    return f"names files of no live generation (generation {gen.number} is current)"


LAGS = "shows an older generation (a writer stopped before rewriting it)"


def _existing(home) -> Catalog:
    catalog = Catalog(home)
    if not catalog.home.is_dir():
        raise NasdbError(f"{catalog.home}: no catalog here (check --home or $NASDB_HOME)")
    return catalog


def verify(home) -> tuple[manifest.Generation, list[Problem]]:
    catalog = _existing(home)
    try:
        gen = catalog.current()
    except manifest.CatalogDamaged as exc:
        return manifest.Generation(catalog.home), [Problem(None, str(exc))]
    problems = check(gen)
    if gen.adopted and gen.entries:
        problems.append(
            Problem(
                None,
                f"{catalog.home / manifest.MANIFEST} is missing (a "
                "catalog written before manifests); fix: nasdb repair",
            )
        )
    return gen, problems


def repair(home) -> tuple[list[str], list[str]]:
    """Rebuild what can be rebuilt as a new generation; returns (what was done, what still
    needs a command: the re-ingests)."""
    catalog = _existing(home)
    done, left = [], []
    try:
        catalog.current()
    except manifest.CatalogDamaged:  # adopt the files present, newest generation first
        path = catalog.home / manifest.MANIFEST
        path.replace(path.with_name(manifest.MANIFEST + ".damaged"))
        done.append(f"moved the unreadable {path.name} to {path.name}.damaged")
    with catalog.transaction() as tx:
        gen = tx.base
        problems = check(gen)
        for p in problems:
            if p.key is None:
                continue
            table, stem = p.key.split("/", 1)
            if table == "wide":
                tx.drop("wide", stem)
                done.append(f"rebuilt the wide table of {stem}")
            elif table == "runs":
                tx.drop("runs", stem)
                done.append(f"dropped run {stem} (its file is damaged)")
            elif table in ("surrogates", "predictions", "models"):
                for t in ("surrogates", "predictions", "models"):
                    tx.drop(t, stem)
                done.append(f"dropped surrogate {stem} (fit it again: nasdb surrogate fit)")
            elif table == "architectures" and _rebuild_architectures(tx, stem):
                done.append(f"rebuilt the architectures of {stem} from its evaluations")
            else:
                left.append(p.message)
        if gen.adopted and gen.entries:
            done.append(f"wrote {manifest.MANIFEST} for the files present (adopted)")
        tx.rebuild = bool(problems)  # derived files are rebuilt by the commit
        lags = not problems and duckdb_problem(gen) == LAGS
        if lags:
            catalog.write_duckdb(gen)
    if lags or any(p.key is None for p in problems):
        done.append(f"rewrote {DUCKDB_FILE}")
    return done, left


def _rebuild_architectures(tx: Transaction, space: str) -> bool:
    """A space that describes every architecture itself gets its table back from the
    architecture indices of its intact evaluations; others need a re-ingest."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    from nasdb import spaces
    from nasdb.schema import ARCHITECTURES

    sp = spaces.get(space)
    if hasattr(sp, "learn"):
        return False
    files = [
        str(p)
        for n, m in tx.gen.sources.items()
        if m["space"] == space
        for p in [tx.gen.path("evaluations", n)]
        if p is not None
    ]
    try:
        seen = (
            duckdb.connect()
            .execute("SELECT DISTINCT arch_index FROM read_parquet(?) ORDER BY 1", [files])
            .fetchnumpy()["arch_index"]
        )
    except duckdb.Error:
        return False
    seen = np.asarray(seen, dtype=np.int64)
    described = sp.architectures(seen)
    arch = pa.table({"space": [space] * len(seen), "arch_index": seen, **described})
    tx.put("architectures", space, arch.select(ARCHITECTURES.names).cast(ARCHITECTURES))
    return True
