"""NAS-Bench-NLP doc2vec features: a 10-d embedding of each recipe of the PTB logs.

``data/doc2vec_features_lowdim.csv`` of the release: ``recepie_id`` (upstream's spelling)
and ``v00``..``v09``. Upstream's ``make_arch_embeddings.ipynb`` made them by training
doc2vec on random walks over each recipe's graph (ops as words), one document per distinct
recipe of the single-run PTB logs, keyed by the id of its first log; they describe the
recipe alone, not its training. Checked against the WikiText-2 logs: in each of the 48
groups of ids there that hold an identical recipe dict, at most one id is in this file,
as that de-duplication implies when both data sets number recipes alike.

Rows: metrics ``doc2vec_0``..``doc2vec_9``, ``unit`` '' and ``task``, ``fidelity``,
``device`` and ``seed`` NULL, so that they sit beside every task as surrogate features.
The file names 14,322 ids (4,322 of the first list, 10,000 of the second), of which 108
are among the WikiText-2 logs; the PTB logs would give the recipes of the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from nasdb.loaders.base import Source, SourceData, concat, evaluations, numeric, read_csv

from nasdb.errors import IngestError
from nasdb.spaces import nbnlp

FILE = "doc2vec_features_lowdim.csv"
ID = "recepie_id"
DIMS = tuple(f"v{k:02d}" for k in range(10))
EXPECTED = 14_322

SOURCE = Source(
    name="nbnlp_doc2vec",
    space="nbnlp",
    title="NAS-Bench-NLP: 10-d doc2vec features of recurrent-cell recipes",
    upstream="fmsnew/nas-bench-nlp-release @a6d90a3 data/doc2vec_features_lowdim.csv",
    version="a6d90a3",
    licence="Apache-2.0",
    subdir="nbnlp",
    files=(FILE,),
)


def read(path: Path) -> SourceData:
    f = path / FILE
    table = read_csv(f, (ID, *DIMS))
    if table.num_rows != EXPECTED:
        raise IngestError(
            f"{f}: {table.num_rows:,} rows, expected {EXPECTED:,} (truncated or wrong file?)"
        )
    ids = numeric(table, ID, f)
    if not (np.isfinite(ids) & (ids == np.round(ids))).all():
        raise IngestError(f"{f}: column {ID!r} holds non-integers, expected recipe ids")
    index = nbnlp.index_of_recipe_ids(ids.astype(np.int64))
    if (index < 0).any():
        bad = int(ids[index < 0][0])
        raise IngestError(
            f"{f}: {ID} {bad} is outside the NAS-Bench-NLP recipe lists ({nbnlp.id_ranges()})"
        )
    if len(np.unique(index)) != len(index):
        raise IngestError(f"{f}: a {ID} appears twice, expected one row per recipe")
    tables = []
    for k, column in enumerate(DIMS):
        values = numeric(table, column, f)
        if not np.isfinite(values).all():
            raise IngestError(f"{f}: column {column!r} holds a missing or infinite value")
        tables.append(
            evaluations(
                "nbnlp", SOURCE.name, index, values, task=None, metric=f"doc2vec_{k}", unit=""
            )
        )
    return SourceData(concat(tables), [f])
