"""Column layout of the catalog's Parquet tables; one place so loaders and views agree."""

from __future__ import annotations

import pyarrow as pa

EVALUATIONS = pa.schema(
    [
        ("space", pa.string()),
        ("arch_id", pa.string()),
        ("arch_index", pa.int64()),
        ("task", pa.string()),
        ("device", pa.string()),
        ("metric", pa.string()),
        ("fidelity", pa.int32()),
        ("seed", pa.int32()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("source", pa.string()),
        # True: the source says this architecture cannot be measured on this key (e.g. the
        # Edge TPU compiler rejected it); value is NULL, and no surrogate may fill it.
        ("infeasible", pa.bool_()),
    ]
)

ARCHITECTURES = pa.schema(
    [
        ("space", pa.string()),
        ("arch_id", pa.string()),
        ("arch_index", pa.int64()),
        ("encoding", pa.string()),
        ("iso_id", pa.string()),
    ]
)

SOURCE_FILE = pa.struct([("path", pa.string()), ("bytes", pa.int64()), ("sha256", pa.string())])

# Each distinct measured column of a source, so listings never scan the evaluations.
KEY_FIELDS = ("task", "metric", "device", "fidelity", "seed", "unit")
SOURCE_KEY = pa.struct(
    [(f, EVALUATIONS.field(f).type) for f in KEY_FIELDS] + [("rows", pa.int64())]
)

SOURCES = pa.schema(
    [
        ("name", pa.string()),
        ("space", pa.string()),
        ("title", pa.string()),
        ("upstream", pa.string()),
        ("version", pa.string()),
        ("licence", pa.string()),
        ("files", pa.list_(SOURCE_FILE)),
        ("rows", pa.int64()),
        ("keys", pa.list_(SOURCE_KEY)),
        ("ingested_at", pa.timestamp("s", tz="UTC")),
    ]
)

# One row per trial of a search run; a comparison writes one file of many runs.
RUNS = pa.schema(
    [
        ("run_id", pa.string()),
        ("algorithm", pa.string()),
        ("benchmark", pa.string()),
        ("space", pa.string()),
        ("task", pa.string()),
        ("metric", pa.string()),  # objectives, comma-separated, first = the one ``best`` tracks
        ("direction", pa.string()),  # of the first objective: max or min
        ("device", pa.string()),
        ("seed", pa.int64()),
        ("trial", pa.int32()),
        ("arch_index", pa.int64()),
        ("arch_id", pa.string()),
        ("fidelity", pa.int32()),
        ("value", pa.float64()),  # first objective
        ("values", pa.list_(pa.float64())),  # every objective
        ("cost", pa.float64()),  # simulated seconds of this trial
        ("time", pa.float64()),  # simulated seconds so far
        ("best", pa.float64()),  # best first objective so far at the target fidelity
        ("predicted", pa.bool_()),  # the first objective came from a surrogate, not a table
        ("cost_model", pa.string()),  # what ``cost`` is: measured, modelled or nominal, and how
        ("reported_metric", pa.string()),  # e.g. test_accuracy@200: what runs report
        ("reported", pa.float64()),  # its value for the incumbent (best objective so far)
        ("origin", pa.string()),  # where the first objective came from: table, surrogate, train
    ]
)

# One row per fitted surrogate (see nasdb.surrogates.store).
SURROGATES = pa.schema(
    [
        ("name", pa.string()),
        ("space", pa.string()),
        ("task", pa.string()),
        ("metric", pa.string()),
        ("device", pa.string()),
        ("fidelity", pa.int32()),
        ("seed", pa.int32()),
        ("unit", pa.string()),
        ("source", pa.string()),  # of the rows it learned from
        ("model", pa.string()),
        ("features", pa.string()),
        ("proxies", pa.list_(pa.string())),
        ("split", pa.string()),
        ("train_rows", pa.int64()),
        ("held_out_rows", pa.int64()),
        ("r2", pa.float64()),
        ("kendall_tau", pa.float64()),
        ("spearman", pa.float64()),
        ("sparse_kendall_tau", pa.float64()),
        ("fit_seconds", pa.float64()),
        ("predictions", pa.int64()),
        ("created_at", pa.timestamp("s", tz="UTC")),
        ("path", pa.string()),
        # Scores on the held-out architectures with no isomorphic twin among the training
        # ones (the iso-aware score; ``surrogate="auto"`` ranks by it). NULL where every
        # held-out architecture has a twin, or the space has no isomorphism classes.
        ("iso_held_out_rows", pa.int64()),
        ("iso_r2", pa.float64()),
        ("iso_kendall_tau", pa.float64()),
        ("iso_spearman", pa.float64()),
        ("iso_sparse_kendall_tau", pa.float64()),
    ]
)

# A surrogate's answer for every architecture its space has in the catalog: predicted,
# never measured, so it stays out of ``evaluations``; ``std`` is the ensemble spread.
PREDICTIONS = pa.schema(
    [f for f in EVALUATIONS if f.name not in ("seed", "unit", "source", "infeasible")]
    + [("std", pa.float64()), ("unit", pa.string()), ("surrogate", pa.string())]
)

# One row per training nasdb ran on a search's miss (see nasdb.train_miss): provenance of
# the ``trained_<space>_<task>`` evaluations, and the diverged runs that have none.
TRAININGS = pa.schema(
    [
        ("source", pa.string()),
        ("space", pa.string()),
        ("task", pa.string()),
        ("arch_index", pa.int64()),
        ("arch_id", pa.string()),
        ("fidelity", pa.int32()),  # epochs trained
        ("seed", pa.int32()),
        ("status", pa.string()),  # ok, or diverged (non-finite loss: no accuracy)
        ("test_accuracy", pa.float64()),
        ("valid_accuracy", pa.float64()),
        ("train_seconds", pa.float64()),  # wall seconds of the training itself
        ("recipe", pa.string()),
        ("recipe_sha256", pa.string()),
        ("recipe_json", pa.string()),
        ("dataset", pa.string()),
        ("dataset_fingerprint", pa.string()),
        ("hardware", pa.string()),  # JSON
        ("versions", pa.string()),  # JSON: nasdb, torch, numpy, python
        ("nasdb_version", pa.string()),
        ("history", pa.string()),  # JSON: one entry per epoch
        ("host", pa.string()),
        ("pid", pa.int64()),
        ("trained_at", pa.timestamp("s", tz="UTC")),
    ]
)
