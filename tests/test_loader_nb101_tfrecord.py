"""NB101 TFRecord loader, on small files written in the exact upstream format."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from nasdb.loaders import nb101_tfrecord as loader
from nb101_tfrecord_files import crc32c, evaluation, frame, masked, model_metrics, record, write

from nasdb import spaces
from nasdb.testing import check_loader

CELLS = [0, 4789, 6992, 423_623]  # first hash, the best cell, input -> output, last hash
BUDGETS = (4, 108)


def accuracy(cell: int, epochs: int, seed: int) -> float:
    return 0.5 + (cell % 97) / 1000 + epochs / 1000 + seed / 100


def records(with_checkpoint: bool = False) -> list[bytes]:
    space = spaces.get("nb101")
    out = []
    for epochs in BUDGETS:
        for seed in range(3):
            for cell in CELLS:
                matrix, ops = space.spec(cell)
                acc = accuracy(cell, epochs, seed)
                stages = [
                    evaluation(0, 0, 0.1, 0.1, 0.1),
                    evaluation(epochs // 2, 10.0 * epochs, acc - 0.1, acc - 0.2, acc - 0.3),
                    evaluation(
                        epochs,
                        20.0 * epochs + seed,
                        acc,
                        acc - 0.01,
                        acc - 0.02,
                        "ckpt" if with_checkpoint else "",
                    ),
                ]
                metrics = model_metrics(stages, 1_000_000 + cell, 99.5)
                out.append(record(space.arch_id(cell), epochs, matrix, ops, metrics))
    return out


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    d = tmp_path_factory.mktemp("upstream")
    write(d / loader.ONLY108, records(with_checkpoint=True))
    # 4 cells x 2 budgets x 2 stages x 4 metrics x (3 seeds + mean), + params
    return check_loader(
        "nb101_tfrecord",
        d,
        tmp_path_factory.mktemp("kit"),
        rows=4 * 2 * 2 * 4 * 4 + 4,
        other_schema=lambda file, real: frame(b'["abc", 108, "01"]'),
    )


def test_crc32c_known_value():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    msgs = [b"", b"a", b"123456789", bytes(range(256)) * 3]
    np.testing.assert_array_equal(loader.masked_crc32c(msgs), [masked(m) for m in msgs])


def test_rows(tmp_path):
    write(tmp_path / loader.ONLY108, records())
    ev = loader.read(tmp_path).evaluations.to_pandas()
    best = ev[(ev.arch_index == 4789) & (ev.metric == "test_accuracy") & (ev.fidelity == 108)]
    per_seed = best.dropna(subset=["seed"]).sort_values("seed")
    expected = [100 * (accuracy(4789, 108, s) - 0.02) for s in range(3)]
    np.testing.assert_allclose(per_seed.value, expected)
    assert per_seed.seed.tolist() == [0, 1, 2]
    np.testing.assert_allclose(best[best.seed.isna()].value, [np.mean(expected)])
    half = ev[(ev.metric == "valid_accuracy") & (ev.arch_index == 0)]
    assert sorted(half.fidelity.unique()) == [2, 4, 54, 108]
    time = ev[ev.metric == "train_time"]
    assert set(time.device) == {"tpu_v2"} and ev[ev.metric != "train_time"].device.isna().all()
    params = ev[ev.metric == "params"].sort_values("arch_index")
    assert params.arch_index.tolist() == CELLS and params.seed.isna().all()
    np.testing.assert_allclose(params.value, [1 + c / 1e6 for c in CELLS])
    assert len(ev) == 4 * 2 * 2 * 4 * 4 + 4


def test_full_file_preferred(tmp_path):
    write(tmp_path / loader.ONLY108, records()[:3])
    write(tmp_path / loader.FULL, records())
    assert loader.read(tmp_path).files == [tmp_path / loader.FULL]


def test_not_in_ingest_all():
    from nasdb.cli import _expand

    assert "nb101_tfrecord" not in _expand(("all",)) + _expand(("nb101",))
    assert _expand(("nb101_tfrecord",)) == ["nb101_tfrecord"]


def test_lookup_by_adjacency_and_ops(checked):
    db = checked.db
    matrix, ops = spaces.get("nb101").spec(4789)
    value = db.lookup("nb101", (matrix.tolist(), ops), metric="test_accuracy", fidelity=108)
    expected = np.mean([100 * (accuracy(4789, 108, s) - 0.02) for s in range(3)])
    np.testing.assert_allclose(value, [expected])


def flip(at: int, bits: int):
    def edit(path):
        data = bytearray(path.read_bytes())
        data[at] ^= bits
        path.write_bytes(bytes(data))

    return edit


def test_corrupt_data_crc(checked):
    # byte 200 is inside record 0's JSON
    checked.fails(loader.ONLY108, flip(200, 0x01), "record 0", "data CRC32C does not match")


def test_corrupt_length_crc(checked):
    checked.fails(loader.ONLY108, flip(8, 0xFF), "record 0", "length CRC32C")  # first length CRC


def test_not_json(checked):
    not_json = [b"\x00not json"]
    checked.fails(loader.ONLY108, lambda f: write(f, not_json), "record 0", "not a JSON list")


def test_bad_protobuf(checked):
    good = records()
    bad = record("0" * 32, 108, [[0, 1], [0, 0]], ["input", "output"], b"\x0a\xff\x01")
    recs = [good[0], bad.replace(b"0" * 32, good[1][2:34])]
    checked.fails(loader.ONLY108, lambda f: write(f, recs), "record 1", "ModelMetrics")


def test_unknown_hash(checked):
    recs = records()
    recs[5] = recs[5].replace(recs[5][2:34], b"f" * 32)
    checked.fails(loader.ONLY108, lambda f: write(f, recs), "f" * 32, "not a NAS-Bench-101 cell")


def test_graph_of_another_cell(checked):
    space = spaces.get("nb101")
    matrix, ops = space.spec(6992)
    metrics = model_metrics([evaluation(0, 0, 0, 0, 0)] * 3, 5, 1.0)
    recs = [record(space.arch_id(0), 108, matrix, ops, metrics)]
    checked.fails(loader.ONLY108, lambda f: write(f, recs), space.arch_id(0), "its graph has")


def test_header_cut(tmp_path):
    (tmp_path / loader.ONLY108).write_bytes(frame(b"[]") + struct.pack("<Q", 5))
    with pytest.raises(Exception, match="header of record 1"):
        loader.read(tmp_path)
