"""NAS-Bench-NLP on WikiText-2: 345 training logs of recurrent cells, 50 epochs each.

The release's ``train_logs_wikitext-2/logs.zip`` (kept as ``logs_wikitext-2.zip`` in the
shared data; the upstream path, or a folder of its unzipped logs, is read as well). The
log format, the metrics and how repeated runs become seeds are in
:mod:`nasdb.loaders.nbnlp_logs`.

Facts checked against the file: 345 logs of 344 recipe ids, all trained with the same
arguments (AWD-LSTM-style 3-layer model, 400-d embeddings, 600 hidden units, Adam at
1e-3, 50 epochs). 341 runs finished; 4 stopped when the loss became NaN, after 1, 1, 19
and 23 epochs. Recipe id 1002429 was run twice (same start time, two experiment ids), so
it has seeds 0 and 1 besides their mean. The ids name 291 distinct recipe texts and 265
distinct cells once node names and input order are set aside; several cells sit under
two or three ids (1000213 and 1002213, ...), which upstream trained as separate runs.
"""

from __future__ import annotations

from pathlib import Path

from nasdb.loaders.base import Source, SourceData
from nasdb.loaders.nbnlp_logs import read_runs, to_source_data

from nasdb.errors import IngestError

TASK = "wikitext-2"
ZIP = "logs_wikitext-2.zip"
UPSTREAM = "train_logs_wikitext-2"
EXPECTED_LOGS = 345

SOURCE = Source(
    name="nbnlp_wikitext2",
    space="nbnlp",
    title="NAS-Bench-NLP: recurrent cells on WikiText-2, per-epoch losses and times",
    upstream="fmsnew/nas-bench-nlp-release @a6d90a3 train_logs_wikitext-2/logs.zip",
    version="a6d90a3",
    licence="Apache-2.0",
    subdir="nbnlp",
    files=(ZIP,),
)


def logs_path(path: Path) -> Path:
    """The zip as the shared data names it, else upstream's zip or folder of logs."""
    for candidate in (path / ZIP, path / UPSTREAM / "logs.zip", path / UPSTREAM):
        if candidate.is_file() or (candidate.is_dir() and any(candidate.glob("*.json"))):
            return candidate
    raise IngestError(
        f"{path / ZIP}: file not found (nor {UPSTREAM}/logs.zip or a {UPSTREAM}/ folder "
        "of JSON logs)"
    )


def read(path: Path) -> SourceData:
    logs = logs_path(path)
    runs = read_runs([logs], TASK)
    if len(runs) != EXPECTED_LOGS:
        raise IngestError(
            f"{logs}: {len(runs)} training logs, expected {EXPECTED_LOGS} (truncated or "
            "wrong file?)"
        )
    files = [logs] if logs.is_file() else sorted(logs.glob("*.json"))
    return to_source_data(runs, task=TASK, source=SOURCE.name, files=files)
