"""The YAHPO NAS-Bench-301 ONNX surrogate: encoding, plausibility, determinism, provenance.

Needs onnxruntime (``pip install 'nasdb[onnx]'``): skipped without it, except in CI,
where its absence fails the run so these checks can never silently stop running.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from nasdb.surrogates import yahpo_nb301
from nasdb.surrogates.yahpo_nb301 import RECORD, YahpoNB301

from nasdb import spaces, surrogates
from nasdb.errors import SurrogateError, UnknownName

REPO = Path(__file__).resolve().parents[1]
S = spaces.get("nb301")


@pytest.fixture(scope="module")
def onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs onnxruntime for the nb301 surrogate: pip install -e '.[onnx]'")
        pytest.skip("onnxruntime not installed (pip install 'nasdb[onnx]')")
    return onnxruntime


@pytest.fixture(scope="module")
def yahpo_dir(shared_data) -> Path:
    return shared_data / "nb301" / "yahpo"


@pytest.fixture(scope="module")
def model(onnxruntime, shared_data) -> YahpoNB301:
    return YahpoNB301(shared_data).load()


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return S.sample(np.random.default_rng(98), 1000)


@pytest.fixture(scope="module")
def naslib(shared_data) -> dict:
    path = shared_data / "nb301" / "naslib" / "zc_nasbench301.json"
    return json.loads(path.read_text())["nasbench301"]["cifar10"]


def _rank(a: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(a))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(_rank(a), _rank(b))[0, 1])


def test_registered():
    assert "yahpo_nb301" in surrogates.names()
    assert surrogates.get("yahpo_nb301") is YahpoNB301
    with pytest.raises(UnknownName, match="unknown surrogate"):
        surrogates.get("nope")


def test_thousand_genotypes_at_epoch_98_are_plausible(model, sample):
    start = time.perf_counter()
    out = model.predict(sample, epoch=98)
    seconds = time.perf_counter() - start
    assert set(out) == {"valid_accuracy", "valid_cross_entropy", "train_time", "epoch_time"}
    assert all(v.shape == (1000,) and v.dtype == np.float64 for v in out.values())
    acc = out["valid_accuracy"]
    # DARTS cells trained 100 epochs on CIFAR-10 sit around 90-95 % validation accuracy
    assert 85 < acc.min() and acc.max() < 96
    assert 91.5 < acc.mean() < 93.5
    assert (out["valid_cross_entropy"] > 0).all() and (out["valid_cross_entropy"] < 1).all()
    # hours of GPU training: about 1-2 h for a DARTS network in NAS-Bench-301
    assert 1_000 < out["train_time"].min() and out["train_time"].max() < 10_000
    assert seconds < 5  # ~0.015 s measured; loose for a loaded CI machine


def test_every_genotype_form_gives_the_same_answer(model, sample):
    idx = sample[:20]
    want = model.predict(idx)["valid_accuracy"]
    forms = [
        S.compact(idx),
        S.yahpo_codes(idx),
        S.genotype_strings(idx),
        [S.genotype(int(i)) for i in idx],
        [S.naslib_string(int(i)) for i in idx],
        [S.config(int(i)) for i in idx],
    ]
    for form in forms:
        np.testing.assert_array_equal(model.predict(form)["valid_accuracy"], want)
    np.testing.assert_array_equal(model.predict_codes(S.yahpo_codes(idx))["valid_accuracy"], want)


def test_epochs(model, sample):
    idx = sample[:100]
    curve = np.stack([model.predict(idx, epoch=e)["valid_accuracy"] for e in (1, 10, 50, 98)])
    assert (np.diff(curve, axis=0) > 0).mean() > 0.95  # accuracy rises with training
    assert 40 < curve[0].mean() < 65  # one epoch of training
    per_row = model.predict(idx, epoch=np.arange(1, 101)[:100] % 98 + 1)
    assert per_row["valid_accuracy"].shape == (100,)
    for bad in (0, 99, 1.5, "98"):
        with pytest.raises(UnknownName, match="epoch"):
            model.predict(idx, epoch=bad)
    with pytest.raises(UnknownName, match="3 epochs for 100"):
        model.predict(idx, epoch=[1, 2, 3])


def test_fourth_output_is_seconds_per_epoch(model, naslib):
    """Not a parameter count: steady over epochs, and the slope of train_time."""
    idx = S.indices(list(naslib))
    first, last = model.predict(idx, epoch=1), model.predict(idx, epoch=98)
    assert np.abs(last["epoch_time"] - first["epoch_time"]).mean() < 3
    slope = (last["train_time"] - first["train_time"]) / 97
    params = np.array([r["params"] for r in naslib.values()])
    assert spearman(last["epoch_time"], slope) > 0.9
    assert spearman(last["epoch_time"], params) < spearman(last["epoch_time"], slope)


def test_encoding_agrees_with_naslib_measurements(model, naslib):
    """A wrong column order or op code scrambles the ranking; ours gives the best one."""
    keys = list(naslib)
    acc = np.array([naslib[k]["val_accuracy"] for k in keys])
    codes = S.yahpo_codes(S.indices(keys))
    ours = spearman(model.predict_codes(codes)["valid_accuracy"], acc)
    assert 0.55 < ours < 0.65  # 0.595 measured
    swapped = np.concatenate([codes[:, 14:28], codes[:, :14], codes[:, 31:], codes[:, 28:31]], 1)
    assert spearman(model.predict_codes(swapped)["valid_accuracy"], acc) < ours - 0.1
    ops = np.where(codes[:, :28] > 0, 8 - codes[:, :28], 0)  # op codes reversed
    reversed_ops = np.concatenate([ops, codes[:, 28:]], 1)
    assert spearman(model.predict_codes(reversed_ops)["valid_accuracy"], acc) < ours - 0.1
    assert abs(model.predict_codes(codes)["valid_accuracy"].mean() - 92.42) < 0.01


# provenance ---------------------------------------------------------------------------
def test_record_card_and_files_agree(yahpo_dir):
    card = (REPO / "surrogates" / "yahpo_nb301.md").read_text()
    rows = re.findall(r"^\| ([\w.]+) \| (\d+) \| ([0-9a-f]{64}) \|$", card, re.MULTILINE)
    assert [(r["path"], str(r["bytes"]), r["sha256"]) for r in RECORD["files"]] == rows
    for entry in RECORD["files"]:
        data = (yahpo_dir / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert RECORD["licence"] == "Apache-2.0" and "0e28806" in RECORD["upstream"]


def test_provenance(model, yahpo_dir):
    record = model.provenance()
    assert record["directory"] == str(yahpo_dir) and record["verified"]
    assert [o["metric"] for o in record["outputs"]] == list(model.outputs)
    record["files"].clear()
    assert RECORD["files"]  # a copy, not the module's record


# bad files ----------------------------------------------------------------------------
@pytest.fixture
def copy(tmp_path, yahpo_dir) -> Path:
    out = tmp_path / "yahpo"
    shutil.copytree(yahpo_dir, out)
    for f in out.iterdir():
        f.chmod(0o644)
    return out


def fails(path: Path, *needles: str, **kwargs) -> str:
    with pytest.raises(SurrogateError) as info:
        YahpoNB301(path, **kwargs).predict([0])
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    return message


def test_missing_directory(onnxruntime, tmp_path):
    fails(tmp_path / "nowhere", "directory not found")


def test_truncated_model_without_checksum(onnxruntime, copy):
    f = copy / "model_v2.onnx"
    f.write_bytes(f.read_bytes()[:1000])
    fails(copy, "model_v2.onnx", "not a loadable ONNX model", verify=False)


def test_other_encoding_without_checksum(onnxruntime, copy):
    f = copy / "encoding_v2.json"
    enc = json.loads(f.read_text())
    name = "NetworkSelectorDatasetInfo_COLON_darts_COLON_edge_normal_0"
    enc[name]["sep_conv_3x3"], enc[name]["skip_connect"] = 7, 5
    f.write_text(json.dumps(enc))
    fails(copy, "encoding_v2.json", "codes of", "edge_normal_0", verify=False)


def test_broken_encoding_json(onnxruntime, copy):
    (copy / "encoding_v2.json").write_bytes(b'{"NetworkSelector')
    fails(copy, "encoding_v2.json", "not readable JSON", verify=False)


def test_without_onnxruntime(monkeypatch, shared_data):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    fails(shared_data, "needs onnxruntime", "nasdb[onnx]")


def test_module_names_its_outputs_like_the_catalog():
    assert yahpo_nb301.OUTPUTS[0] == ("valid_accuracy", "%", "val_accuracy")
    assert YahpoNB301.units == {
        "valid_accuracy": "%",
        "valid_cross_entropy": "",
        "train_time": "s",
        "epoch_time": "s",
    }
