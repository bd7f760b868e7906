"""NAS-Bench-NLP on Penn Treebank: the release's single-run and multi-run training logs.

``train_logs_single_run/logs.zip`` holds one run for each of some 14k recipes and
``train_logs_multi_runs/logs.zip`` repeated runs of a few recipes; the two share some
logs, which count once. Either part may be a zip as published or a folder of the
unzipped JSON logs (the zip is read when both are there); at least one part must exist.
The format, metrics and seeds are those of :mod:`nasdb.loaders.nbnlp_logs`, with task
``ptb``. The shared data of this project does not hold these files, so the source is
read by name only (``SOURCE.user_supplied``): ``nasdb ingest nbnlp_ptb --source DIR``.
"""

from __future__ import annotations

from pathlib import Path

from nasdb.loaders.base import Source, SourceData
from nasdb.loaders.nbnlp_logs import read_runs, to_source_data

from nasdb.errors import IngestError

TASK = "ptb"
PARTS = ("train_logs_single_run", "train_logs_multi_runs")

SOURCE = Source(
    name="nbnlp_ptb",
    space="nbnlp",
    title="NAS-Bench-NLP: recurrent cells on Penn Treebank, per-epoch losses and times",
    upstream="fmsnew/nas-bench-nlp-release @a6d90a3 train_logs_single_run/logs.zip, "
    "train_logs_multi_runs/logs.zip",
    version="a6d90a3",
    licence="Apache-2.0",
    subdir="nbnlp",
    files=tuple(f"{part}/logs.zip" for part in PARTS),
    user_supplied=True,
)


def read(path: Path) -> SourceData:
    sources: list[Path] = []
    files: list[Path] = []
    for part in PARTS:
        archive, folder = path / part / "logs.zip", path / part
        if archive.is_file():
            sources.append(archive)
            files.append(archive)
        elif folder.is_dir() and any(folder.glob("*.json")):
            sources.append(folder)
            files += sorted(folder.glob("*.json"))
    if not sources:
        raise IngestError(
            f"{path}: no PTB logs found; expected {PARTS[0]}/logs.zip or {PARTS[1]}/logs.zip "
            "(or those folders holding the unzipped JSON logs)"
        )
    runs = read_runs(sources, TASK)
    if not runs:
        raise IngestError(f"{sources[0]}: holds no JSON training logs")
    return to_source_data(runs, task=TASK, source=SOURCE.name, files=files)
