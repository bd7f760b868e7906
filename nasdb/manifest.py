"""Generations of the catalog: ``manifest.json`` names every live file of one generation.

A writer never changes a file a manifest names: it writes new files under names stamped
with the new generation number (``evaluations/nb201_nats.g13.parquet``), then commits by
replacing ``manifest.json`` atomically (temporary file, fsync, rename, fsync of the home).
A reader reads the manifest once and opens exactly the files it lists, so it sees one
whole generation, never half of a change. ``manifest.json`` holds, per file, its bytes
and sha256 (checked by ``nasdb verify``), and per source the metadata that listing and
lookups need, so that neither reads ``sources/*.parquet``.

A catalog written before manifests existed is *adopted*: read as a generation built from
the files present, and written as generation 1 by its first change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from nasdb.errors import NasdbError

MANIFEST = "manifest.json"
FORMAT = 1
TABLES = (
    "evaluations", "sources", "architectures", "wide", "runs", "surrogates", "predictions",
    "trainings",
)  # fmt: skip
DIRS = ("models",)  # tables whose entries are directories (a surrogate's model files)


class CatalogDamaged(NasdbError):
    """A file of the catalog is missing or not the one its manifest names."""


def sha256(path: Path) -> str:
    """Hex sha256 of a file (hashlib alone: a reader's cold start imports nothing more)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync(path: Path) -> None:
    """Flush a file's, or a directory's entries', writes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Generation:
    """One committed (or, inside a transaction, staged) state of the catalog.

    ``entries`` maps ``"table/stem"`` to ``{"path", "bytes", "sha256"}`` (a file) or
    ``{"path", "files": {name: {"bytes", "sha256"}}}`` (a directory); ``sources`` maps a
    source name to its metadata and keys; ``retired`` lists files that an older
    generation named, kept for readers that may still hold it (see
    :func:`nasdb.catalog.gc_grace`).
    """

    home: Path
    number: int = 0
    entries: dict[str, dict] = field(default_factory=dict)
    sources: dict[str, dict] = field(default_factory=dict)
    retired: list[dict] = field(default_factory=list)
    adopted: bool = False  # read from the files of a catalog that has no manifest yet

    # reading ---------------------------------------------------------------------
    def stems(self, table: str) -> list[str]:
        prefix = table + "/"
        return sorted(k[len(prefix) :] for k in self.entries if k.startswith(prefix))

    def entry(self, table: str, stem: str) -> dict | None:
        return self.entries.get(f"{table}/{stem}")

    def path(self, table: str, stem: str) -> Path | None:
        e = self.entry(table, stem)
        return None if e is None else self.home / e["path"]

    def files(self, table: str) -> list[Path]:
        return [self.home / self.entries[f"{table}/{s}"]["path"] for s in self.stems(table)]

    def intact(self, table: str, stem: str) -> str | None:
        """None if the file looks whole (cheap: its size and Parquet's trailing magic), else
        what is wrong. Checksums are left to ``nasdb verify``."""
        e = self.entry(table, stem)
        path = self.home / e["path"]
        try:
            size = path.stat().st_size
            if "files" in e:
                return None if path.is_dir() else "is missing"
            if e.get("bytes") is not None and size != e["bytes"]:
                return f"has {size:,} bytes, the manifest says {e['bytes']:,}"
            if path.suffix == ".parquet":
                with open(path, "rb") as fh:
                    fh.seek(max(size - 4, 0))
                    if fh.read(4) != b"PAR1":
                        return "is not a whole Parquet file"
        except FileNotFoundError:
            return "is missing"
        except OSError as exc:
            return f"cannot be read ({exc.strerror})"
        return None

    def fix(self, key: str) -> str:
        """The command that repairs the file of entry ``key``."""
        table, stem = key.split("/", 1)
        if table in ("evaluations", "sources"):
            return f"nasdb ingest {stem} --source DIR"
        if table == "architectures":
            from nasdb import spaces

            if hasattr(spaces.get(stem), "learn"):
                names = " ".join(n for n, m in self.sources.items() if m["space"] == stem)
                return f"nasdb ingest {names} --source DIR"
        return "nasdb repair"

    def damage(self, key: str, problem: str) -> CatalogDamaged:
        table, stem = key.split("/", 1)
        owner = f"source {stem}" if table in ("evaluations", "sources") else key
        return CatalogDamaged(
            f"catalog file {self.entries[key]['path']} ({owner}) {problem}; fix: {self.fix(key)}"
        )

    def only_space(self, space: str) -> Generation:
        """The evaluations, sources and architectures of one space: what its wide table is
        built from. Rows nasdb trained itself (``trained_*`` sources, nasdb.train_miss) stay
        out: they are read through ``evaluations`` and ``trainings``, so that writing one
        back never rebuilds a whole wide table."""
        names = {
            n for n, m in self.sources.items()
            if m["space"] == space and not n.startswith("trained_")
        }  # fmt: skip
        keep = {f"{t}/{n}" for t in ("evaluations", "sources") for n in names}
        keep.add(f"architectures/{space}")
        entries = {k: e for k, e in self.entries.items() if k in keep}
        sources = {n: m for n, m in self.sources.items() if n in names}
        return Generation(self.home, self.number, entries, sources)

    def without(self, keys) -> Generation:
        """This generation less some entries (damaged files that views leave out)."""
        entries = {k: e for k, e in self.entries.items() if k not in set(keys)}
        return Generation(self.home, self.number, entries, self.sources, self.retired)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "generation": self.number,
                "committed_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "entries": self.entries,
                "sources": self.sources,
                "retired": self.retired,
            },
            separators=(",", ":"),  # compact: the C encoder, a fraction of a commit's time
            sort_keys=True,
        )


def read(home: Path) -> Generation:
    """The catalog's current generation (a catalog without a manifest is adopted)."""
    try:
        text = (home / MANIFEST).read_text()
    except FileNotFoundError:
        return adopt(home)
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError
        return Generation(
            home, data["generation"], data["entries"], data["sources"], data["retired"]
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CatalogDamaged(
            f"{home / MANIFEST} is not a readable nasdb manifest (format {FORMAT}); "
            "fix: nasdb repair"
        ) from None


def adopt(home: Path) -> Generation:
    """A generation built from the files of a catalog written before manifests (or one
    whose manifest was lost: the newest file of each entry).

    Sizes come from the files; checksums are filled in when the first change commits.
    """
    gen = Generation(home, adopted=True)
    if not home.is_dir():
        return gen
    newest: dict[str, int] = {}
    for table in (*TABLES, *DIRS):
        d = home / table
        for p in sorted(d.iterdir()) if d.is_dir() else []:
            files = table in TABLES  # else directories (a surrogate's model files)
            if p.name.startswith(".") or p.is_dir() == files or files and p.suffix != ".parquet":
                continue
            name = p.name.removesuffix(".parquet")
            stamp = re.fullmatch(r"(.+)\.g(\d+)", name)  # a manifest's file, if it was lost
            stem, number = (stamp[1], int(stamp[2])) if stamp else (name, 0)
            key = f"{table}/{stem}"
            if newest.get(key, -1) >= number:
                continue
            newest[key] = number
            gen.entries[key] = (
                {"path": f"{table}/{p.name}", "bytes": p.stat().st_size, "sha256": None}
                if files
                else {"path": f"{table}/{p.name}", "files": None}
            )
    for stem in gen.stems("sources"):
        try:
            gen.sources[stem] = source_meta_from_file(gen.path("sources", stem))
        except Exception:  # a damaged provenance file: its source's keys are unknown
            continue
    return gen


def source_meta_from_file(path: Path) -> dict:
    import pyarrow.parquet as pq

    row = pq.read_table(path).to_pylist()[0]
    return source_meta(row)


def source_meta(row: dict) -> dict:
    """What the manifest keeps of a source's provenance row: enough to list the source and
    resolve lookups without reading ``sources/*.parquet``."""
    keys = [
        [k["task"], k["metric"], k["device"], k["fidelity"], k["seed"], k["unit"], k["rows"]]
        for k in row["keys"]
    ]
    meta = {f: row[f] for f in ("name", "space", "title", "upstream", "version", "licence")}
    return {
        **meta,
        "rows": row["rows"],
        "ingested_at": row["ingested_at"].isoformat(),
        "keys": keys,
    }
