"""NB101 FreeREA pickles: the published optimum, and the bad inputs of this format."""

from __future__ import annotations

import gzip
import pickle

from conftest import loader_check

BEST_HASH = "02e5a0247bbdcf2860b7e96f74961594"

checked = loader_check("nb101_freerea")


def test_every_cell_once(checked):
    rows = checked.db.sql(
        "SELECT metric, count(*), count(DISTINCT arch_index), min(value), max(value) "
        "FROM evaluations WHERE source = 'nb101_freerea' GROUP BY metric ORDER BY metric"
    ).fetchall()
    params, acc = rows
    assert [r[:3] for r in rows] == [(m, 423_624, 423_624) for m in ("params", "test_accuracy")]
    assert 0.22 < params[3] < 0.23 and 49.9 < params[4] < 50  # millions
    assert 9.9 < acc[3] < 10 and round(acc[4], 2) == 94.32


def test_best_cell_is_the_published_one(checked):
    (arch_id, value), *_ = checked.db.sql(
        "SELECT arch_id, test_accuracy FROM nb101 ORDER BY test_accuracy DESC LIMIT 2"
    ).fetchall()
    assert arch_id == BEST_HASH and round(value, 2) == 94.32


def params_differ(db, source: str) -> int:
    """Cells whose parameter count in ``source`` is not FreeREA's: the same networks built
    again must have the same sizes."""
    return db.sql(
        "SELECT count(*) FROM evaluations a JOIN evaluations b USING (arch_index) "
        "WHERE a.source = $s AND b.source = 'nb101_freerea' "
        "AND a.metric = 'params' AND b.metric = 'params' AND abs(a.value - b.value) > 1e-6",
        params={"s": source},
    ).fetchall()[0][0]


def gunzipped(change):
    """An edit of the pickle inside a .pkl.gz file."""

    def edit(path):
        path.write_bytes(gzip.compress(change(gzip.decompress(path.read_bytes()))))

    return edit


def test_truncated_pickle(checked):
    checked.fails("accuracies.pkl.gz", gunzipped(lambda raw: raw[:-5000]),
                  "accuracies.pkl.gz", "pickle")  # fmt: skip


def test_wrong_columns(checked):
    def rename(raw):
        assert raw.count(b"accuracy") == 1
        return raw.replace(b"accuracy", b"accurac_")

    checked.fails("accuracies.pkl.gz", gunzipped(rename), "accuracies.pkl.gz", "accuracy")


def test_not_a_frame(checked):
    checked.fails("params.pkl.gz", gunzipped(lambda raw: pickle.dumps([1, 2, 3])),
                  "params.pkl.gz", "expected a pandas DataFrame")  # fmt: skip
