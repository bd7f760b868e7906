"""nb201 parameter counts and FLOPs computed by nasdb's own builders (see :mod:`.networks`)."""

from __future__ import annotations

from pathlib import Path

from nasdb.loaders.base import SourceData
from nasdb.loaders.networks import read_space, source

SOURCE = source("nb201")


def read(path: Path) -> SourceData:
    return read_space("nb201", path)
