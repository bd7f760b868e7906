"""A valid ingest of one NB101 source, made once per module and copied for each bad-input test."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ingested_copy


def ingested_once(tmp_path_factory, shared_data: Path, name: str, subdir: str) -> tuple[Path, Path]:
    """``(src, home)`` once per module; each test copies both rather than ingesting again."""
    return ingested_copy(tmp_path_factory.mktemp(name), name, shared_data / subdir)


def private_copy(base: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    src, home = tmp_path / "src", tmp_path / "home"
    shutil.copytree(base[0], src)
    shutil.copytree(base[1], home)
    return src, home
