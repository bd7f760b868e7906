"""YAHPO Gym's NAS-Bench-301 surrogate: an ONNX network answering for any DARTS genotype.

The model (``model_v2.onnx`` of slds-lmu/yahpo_data, Apache-2.0) takes two inputs:
``x_cat``, 34 int32 codes per genotype in YAHPO's column order (edges normal_0..13,
reduce_0..13, then inputs_node_{normal,reduce}_{3,4,5}; codes from ``encoding_v2.json``:
ops 1..7 alphabetically, input pairs 1..C(k+2, 2) lexicographically, 0 for an inactive
edge), and ``x_cont``, the training epoch as float32 (1..98, the range its
``config_space.json`` declares; the network normalises it itself). It returns 4 columns
per row, which YAHPO Gym names val_accuracy (a fraction), val_cross_entropy, runtime
(seconds of training up to that epoch) and runtime_increase (seconds per epoch; it barely
moves with the epoch and tracks the runtime's slope, so it is not a parameter count).

Predictions come from a model fitted by others to NAS-Bench-301's training data, not from
training: :data:`RECORD` says where the files come from and the sha256 they must have, and
:meth:`YahpoNB301.provenance` returns it with the directory actually read.
"""

from __future__ import annotations

import copy
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from nasdb.loaders.base import sha256

from nasdb import spaces
from nasdb.errors import SurrogateError, UnknownName
from nasdb.spaces.nb301 import OPS, PAIRS, YAHPO_NAMES, YAHPO_OP_CODES

MODEL = "model_v2.onnx"
ENCODING = "encoding_v2.json"
CONFIG_SPACE = "config_space.json"
SUBDIR = "nb301/yahpo"
EPOCHS = (1, 98)
# (nasdb metric, unit, YAHPO output name) in the model's column order.
OUTPUTS = (
    ("valid_accuracy", "%", "val_accuracy"),
    ("valid_cross_entropy", "", "val_cross_entropy"),
    ("train_time", "s", "runtime"),
    ("epoch_time", "s", "runtime_increase"),
)
RECORD: dict[str, Any] = {
    "name": "yahpo_nb301",
    "kind": "imported ONNX surrogate",
    "space": "nb301",
    "task": "cifar10",
    "title": "YAHPO Gym surrogate of NAS-Bench-301 (DARTS space, CIFAR-10), per epoch",
    "upstream": "slds-lmu/yahpo_data@0e28806 nb301/",
    "version": "YAHPO Gym v2 surrogate (model_v2.onnx, encoding_v2.json)",
    "licence": "Apache-2.0",
    "trained_on": "NAS-Bench-301 training data (Zimmer 2020, figshare 13286105, Apache-2.0)",
    "papers": [
        "Pfisterer, Schneider, Moosbauer, Binder, Bischl. YAHPO Gym - An Efficient "
        "Multi-Objective Multi-Fidelity Benchmark for Hyperparameter Optimization. AutoML 2022.",
        "Siems, Zimmer, Zela, Lukasik, Keuper, Hutter. NAS-Bench-301 and the Case for "
        "Surrogate Benchmarks for Neural Architecture Search. arXiv:2008.09777.",
    ],
    "files": [
        {
            "path": MODEL,
            "bytes": 2781646,
            "sha256": "e7168d495cf7fe6419b69234a052571536c2a5f6d7a8a2aead4e9d04dffac1d6",
        },
        {
            "path": ENCODING,
            "bytes": 6706,
            "sha256": "b16bb8db9aa5a9b688cd97e782643abe96bd166baa445675f57cbcf5e6128a98",
        },
        {
            "path": CONFIG_SPACE,
            "bytes": 18982,
            "sha256": "3135c6f8347f491fd31e8fa7a5e9607ea926c9a8558a6a21a1419d55a01884f2",
        },
    ],
    "inputs": {"x_cat": "34 int32 YAHPO codes", "x_cont": "epoch, float32, 1..98"},
    "outputs": [{"metric": m, "unit": u, "upstream": y} for m, u, y in OUTPUTS],
}
_CHUNK = 1024  # rows per session call: the activations stay in cache
_BLOCK = 1 << 16  # genotypes encoded at a time, so huge batches stay small in memory


class YahpoNB301:
    """Predicts NAS-Bench-301 quantities for DARTS genotypes at a training epoch.

    ``path`` is the directory holding the YAHPO files, or a data root with them in
    ``nb301/yahpo``. ``verify`` checks every file's sha256 against :data:`RECORD` before
    use, so a damaged or different model never answers silently. ``threads`` is ONNX
    Runtime's thread count: one by default, since the model is a small MLP fed in
    1,024-row chunks and extra threads cost more than they give on a shared machine;
    None lets ONNX Runtime choose.
    """

    name = "yahpo_nb301"
    space = "nb301"
    outputs = tuple(m for m, _, _ in OUTPUTS)
    units = {m: u for m, u, _ in OUTPUTS}

    def __init__(self, path: str | Path, *, verify: bool = True, threads: int | None = 1):
        self.path = Path(path).expanduser()
        self.verify = verify
        self.threads = threads

    def __repr__(self) -> str:
        return f"YahpoNB301(path={str(self.path)!r}, verify={self.verify})"

    # files -------------------------------------------------------------------------
    @cached_property
    def directory(self) -> Path:
        for d in (self.path / SUBDIR, self.path):
            if (d / MODEL).exists():
                return d
        if not self.path.is_dir():
            raise SurrogateError(f"{self.path}: directory not found (YAHPO nb301 files)")
        raise SurrogateError(
            f"{self.path / MODEL}: file not found; pass the directory with {MODEL}, "
            f"{ENCODING} and {CONFIG_SPACE} (from slds-lmu/yahpo_data nb301/)"
        )

    def _file(self, entry: dict) -> Path:
        f = self.directory / entry["path"]
        if not f.is_file():
            raise SurrogateError(f"{f}: file not found")
        if self.verify:
            try:
                digest = sha256(f)
            except OSError as exc:
                raise SurrogateError(f"{f}: cannot read ({exc})") from None
            if digest != entry["sha256"]:
                raise SurrogateError(
                    f"{f}: sha256 {digest[:12]}... is not the recorded {entry['sha256'][:12]}... "
                    "(damaged, or another version; verify=False uses it anyway)"
                )
        return f

    def _json(self, entry: dict) -> Any:
        f = self._file(entry)
        try:
            return json.loads(f.read_bytes())
        except (OSError, ValueError) as exc:
            raise SurrogateError(f"{f}: not readable JSON ({str(exc).splitlines()[0]})") from None

    def _check_encoding(self) -> None:
        """The codes nasdb writes must be exactly those the model was trained with."""
        entry = RECORD["files"][1]
        enc = self._json(entry)
        f = self.directory / entry["path"]
        if not isinstance(enc, dict) or set(enc) != set(YAHPO_NAMES):
            raise SurrogateError(f"{f}: does not name the 34 NAS-Bench-301 inputs YAHPO uses")
        ops = {"#na#": 0, **YAHPO_OP_CODES}
        for name in YAHPO_NAMES:
            if "_edge_" in name:
                expected = ops
            else:
                k = int(name[-1]) - 2
                expected = {"#na#": 0, **{f"{i}_{j}": r + 1 for r, (i, j) in enumerate(PAIRS[k])}}
            if enc[name] != expected:
                raise SurrogateError(f"{f}: codes of {name} are {enc[name]}, expected {expected}")

    def _check_config_space(self) -> None:
        entry = RECORD["files"][2]
        cs = self._json(entry)
        f = self.directory / entry["path"]
        try:
            hps = {h["name"]: h for h in cs["hyperparameters"]}
        except (TypeError, KeyError):
            raise SurrogateError(f"{f}: not a ConfigSpace JSON with 'hyperparameters'") from None
        if set(hps) != {*YAHPO_NAMES, "epoch"}:
            raise SurrogateError(f"{f}: hyperparameters differ from the 34 inputs and epoch")
        epoch = hps["epoch"]
        if (epoch.get("lower"), epoch.get("upper")) != EPOCHS:
            raise SurrogateError(f"{f}: epoch range is not {EPOCHS[0]}..{EPOCHS[1]}")
        for name in YAHPO_NAMES:
            if "_edge_" in name and sorted(hps[name].get("choices", [])) != sorted(OPS):
                raise SurrogateError(f"{f}: {name} choices are not the 7 NAS-Bench-301 ops")

    @cached_property
    def _session(self):
        try:
            import onnxruntime as ort
        except ImportError:
            raise SurrogateError(
                "yahpo_nb301 needs onnxruntime: pip install 'nasdb[onnx]'"
            ) from None
        model = self._file(RECORD["files"][0])
        self._check_encoding()
        self._check_config_space()
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: a bad file becomes our one line
        if self.threads is not None:
            options.intra_op_num_threads = options.inter_op_num_threads = int(self.threads)
        try:
            session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for a bad protobuf
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SurrogateError(f"{model}: not a loadable ONNX model ({first[:160]})") from None
        names = [i.name for i in session.get_inputs()]
        shape = session.get_outputs()[0].shape
        if names != ["x_cat", "x_cont"] or shape[-1] != len(OUTPUTS):
            raise SurrogateError(
                f"{model}: inputs {names} and output width {shape[-1]}; expected x_cat, "
                f"x_cont and {len(OUTPUTS)} outputs"
            )
        return session

    # prediction --------------------------------------------------------------------
    def load(self) -> YahpoNB301:
        """Read and check the files now rather than on the first prediction."""
        self._session  # noqa: B018
        return self

    def predict(self, archs, epoch: int | np.ndarray = EPOCHS[1]) -> dict[str, np.ndarray]:
        """``{metric: values}`` for a batch of genotypes (indices, Genotype objects or
        strings, NASLib compact cells, (n, 2, 8, 2) or (n, 34) integer arrays).

        ``epoch`` is one epoch for all, or one per genotype; 98 is the last the model
        knows. ``valid_accuracy`` is in percent, times in seconds.
        """
        sp = spaces.get(self.space)
        idx = sp.indices(archs)
        x_cont = _epochs(epoch, len(idx))
        raw = [
            self._run(sp.yahpo_codes(idx[s : s + _BLOCK]), x_cont[s : s + _BLOCK])
            for s in range(0, len(idx), _BLOCK)
        ]
        return _named(raw)

    def predict_codes(self, codes: np.ndarray, epoch: int | np.ndarray = EPOCHS[1]):
        """The same from YAHPO's (n, 34) integer codes, as :meth:`NB301Space.yahpo_codes`."""
        x_cat = np.asarray(codes)
        if x_cat.ndim != 2 or x_cat.shape[1] != len(YAHPO_NAMES) or x_cat.dtype.kind not in "iu":
            raise UnknownName(f"yahpo_nb301: codes must be (n, {len(YAHPO_NAMES)}) integers")
        return _named([self._run(x_cat, _epochs(epoch, len(x_cat)))])

    def _run(self, codes: np.ndarray, x_cont: np.ndarray) -> np.ndarray:
        session = self._session
        x_cat = np.ascontiguousarray(codes, dtype=np.int32)
        parts = [
            session.run(None, {"x_cat": x_cat[s : s + _CHUNK], "x_cont": x_cont[s : s + _CHUNK]})
            for s in range(0, len(x_cat), _CHUNK)
        ]
        if not parts:
            return np.empty((0, len(OUTPUTS)), dtype=np.float64)
        return np.concatenate([p[0] for p in parts]).astype(np.float64)

    # provenance --------------------------------------------------------------------
    def provenance(self) -> dict[str, Any]:
        """Where predictions come from: :data:`RECORD` plus the directory read."""
        record = copy.deepcopy(RECORD)
        record["directory"] = str(self.directory)
        record["verified"] = self.verify
        return record


def _named(raw: list[np.ndarray]) -> dict[str, np.ndarray]:
    table = np.concatenate(raw) if raw else np.empty((0, len(OUTPUTS)))
    out = {m: table[:, c] for c, (m, _, _) in enumerate(OUTPUTS)}
    out["valid_accuracy"] = out["valid_accuracy"] * 100.0  # the model answers a fraction
    return out


def _epochs(epoch, n: int) -> np.ndarray:
    e = np.asarray(epoch)
    if e.dtype.kind not in "iuf" or (e.dtype.kind == "f" and not np.all(e == np.round(e))):
        raise UnknownName(f"yahpo_nb301: epoch must be whole numbers {EPOCHS[0]}..{EPOCHS[1]}")
    if e.size and (e.min() < EPOCHS[0] or e.max() > EPOCHS[1]):
        raise UnknownName(
            f"yahpo_nb301: epoch {e.min() if e.min() < EPOCHS[0] else e.max()} is outside "
            f"{EPOCHS[0]}..{EPOCHS[1]}, the epochs the model was trained on"
        )
    if e.ndim == 0:
        e = np.full(n, e)
    if e.shape != (n,):
        raise UnknownName(f"yahpo_nb301: {e.size} epochs for {n} genotypes")
    return e.astype(np.float32).reshape(n, 1)
