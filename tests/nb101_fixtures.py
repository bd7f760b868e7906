"""A valid ingest of one NB101 source, made once per module and copied for each bad-input test."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import run_cli


def ingested_once(tmp_path_factory, shared_data: Path, name: str, subdir: str) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp(name)
    src, home = base / "src", base / "home"
    shutil.copytree(shared_data / subdir, src)
    result = run_cli("ingest", name, "--source", str(src), "--home", str(home))
    assert result.exit_code == 0, result.output
    return src, home


def private_copy(base: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    src, home = tmp_path / "src", tmp_path / "home"
    shutil.copytree(base[0], src)
    shutil.copytree(base[1], home)
    return src, home
