"""The dataset cards in datasets/ stay true to the loaders and to the files they read.

Each catalog source has ``datasets/<name>.md`` with one machine-readable table,
``| file | bytes | sha256 |``, whose ``file`` column is a path relative to the source's
directory. That table must list exactly the loader's ``SOURCE.files``, and the sizes and
checksums must be those of the real files: the shared benchmark data for ordinary
sources, the installed package for sources that ship inside a PyPI package. Sources that
read an original upstream release too large for the shared data (``SOURCE.user_supplied``)
write ``unknown`` for the bytes, checksums and row counts nobody here could measure.
``datasets/README.md`` indexes the cards with the space, licence and row count of each.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from nasdb import loaders
from nasdb.catalog import package_dir

REPO = Path(__file__).resolve().parents[1]
CARDS = REPO / "datasets"
INDEX = CARDS / "README.md"
FILE_HEADER = ("file", "bytes", "sha256")
INDEX_HEADER = ("source", "space", "rows expected", "licence")
NAMES = list(loaders.REGISTRY)
SHARED = loaders.bundled()  # the sources whose files the shared data or a package holds
UNKNOWN = "unknown"


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(path: Path, header: tuple[str, ...]) -> list[list[str]]:
    """Body rows of the one Markdown table in ``path`` whose header is ``header``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [
        i
        for i, line in enumerate(lines)
        if line.lstrip().startswith("|") and tuple(c.lower() for c in _cells(line)) == header
    ]
    assert len(starts) == 1, (
        f"{path.name}: expected one table headed '{' | '.join(header)}', found {len(starts)}"
    )
    start = starts[0]
    separator = _cells(lines[start + 1]) if start + 1 < len(lines) else []
    assert len(separator) == len(header) and all(
        re.fullmatch(r":?-{3,}:?", c) for c in separator
    ), f"{path.name}: line {start + 2} is not the table's separator row"
    rows = []
    for number, line in enumerate(lines[start + 2 :], start + 3):
        if not line.lstrip().startswith("|"):
            break
        cells = _cells(line)
        assert len(cells) == len(header), f"{path.name}:{number}: {len(cells)} cells in {line!r}"
        rows.append(cells)
    return rows


def card_files(name: str) -> dict[str, tuple[int | None, str | None]]:
    """``{file: (bytes, sha256)}`` from the card of source ``name``; None where unknown."""
    card = CARDS / f"{name}.md"
    assert card.is_file(), f"no dataset card for source {name!r} (expected {card})"
    files: dict[str, tuple[int, str]] = {}
    for file, size, digest in _table(card, FILE_HEADER):
        file = file.strip("`")
        assert file not in files, f"{card.name}: {file} listed twice"
        if loaders.get(name).SOURCE.user_supplied and size == digest == UNKNOWN:
            files[file] = (None, None)
            continue
        assert re.fullmatch(r"\d+", size), f"{card.name}: {file}: bytes {size!r} is not an integer"
        assert re.fullmatch(r"[0-9a-f]{64}", digest), (
            f"{card.name}: {file}: {digest!r} is not a lower-case hex sha256"
        )
        files[file] = (int(size), digest)
    return files


def index_rows() -> dict[str, dict[str, str]]:
    """The README index as ``{source: {space, rows, licence}}``."""
    assert INDEX.is_file(), f"missing {INDEX}"
    out: dict[str, dict[str, str]] = {}
    for source, space, rows, licence in _table(INDEX, INDEX_HEADER):
        match = re.fullmatch(r"\[`?([\w-]+)`?\]\(([\w.-]+)\)", source)
        assert match, f"README.md: source cell {source!r} is not a link like [name](name.md)"
        name, link = match.groups()
        assert link == f"{name}.md", f"README.md: {name} links to {link}"
        assert name not in out, f"README.md: {name} listed twice"
        out[name] = {"space": space.strip("`"), "rows": rows, "licence": licence}
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _directory(source, request) -> Path:
    """Where the real files of ``source`` are: the installed package, or the shared data."""
    if source.package is not None:
        return package_dir(source.package)
    return request.getfixturevalue("shared_data") / source.subdir


def _rows(text: str, name: str) -> int | None:
    if loaders.get(name).SOURCE.user_supplied and text == UNKNOWN:
        return None
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text), f"{text!r} is not a count like 453,125"
    return int(text.replace(",", ""))


@pytest.mark.parametrize("name", NAMES)
def test_card_lists_exactly_the_loader_files(name):
    source = loaders.get(name).SOURCE
    listed = card_files(name)
    expected = set(source.files)
    assert set(listed) == expected, (
        f"{name}.md lists {sorted(set(listed) - expected)} that the loader does not read "
        f"and misses {sorted(expected - set(listed))}"
    )


@pytest.mark.parametrize("name", SHARED)
def test_card_sizes_and_checksums_match_the_files(name, request):
    source = loaders.get(name).SOURCE
    directory = _directory(source, request)
    present = {f: v for f, v in card_files(name).items() if (directory / f).is_file()}
    assert present, f"none of the files of {name}.md is under {directory}"
    for file, (size, digest) in present.items():
        path = directory / file
        assert path.stat().st_size == size, f"{name}.md: {file} has {path.stat().st_size} bytes"
        assert _sha256(path) == digest, f"{name}.md: sha256 of {path} differs from the card"


def test_every_card_belongs_to_a_source():
    cards = {p.stem for p in CARDS.glob("*.md") if p.name != INDEX.name}
    assert cards <= set(NAMES), f"cards without a catalog source: {sorted(cards - set(NAMES))}"


def test_index_lists_every_source_once():
    assert sorted(index_rows()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_index_agrees_with_loader_and_card(name):
    source = loaders.get(name).SOURCE
    row = index_rows()[name]
    assert row["space"] == source.space
    assert row["licence"] == source.licence
    card = (CARDS / f"{name}.md").read_text(encoding="utf-8")
    match = re.search(r"^\| rows in the catalog \| ([\d,]+|unknown) \|$", card, re.MULTILINE)
    assert match, f"{name}.md: no '| rows in the catalog | N |' line"
    assert _rows(match.group(1), name) == _rows(row["rows"], name), (
        f"{name}: card and README disagree"
    )


@pytest.mark.parametrize(
    "name", [n for n in loaders.names() if loaders.get(n).SOURCE.user_supplied]
)
def test_unmeasured_files_are_absent_from_the_shared_data(name, request):
    """A by-name-only card says 'unknown' only for files nobody here has."""
    source = loaders.get(name).SOURCE
    assert name not in SHARED
    directory = request.getfixturevalue("shared_data") / source.subdir
    for file, (size, _) in card_files(name).items():
        if size is None:
            assert not (directory / file).exists(), f"{name}.md: measure {file}, it is here"
