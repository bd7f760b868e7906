"""Image datasets read from files already on disk, never downloaded.

Formats: CIFAR-10/100 "python version" batches, ImageNet16-120 as NATS-Bench ships it
(``train_data_batch_1..10`` and ``val_data`` pickles of 16x16 images, labels 1..1000 of
which the first 120 classes are kept), and scikit-learn's bundled 8x8 digits for tests
and demos. Every pickle goes through nasdb's restricted unpickler. A dataset is plain
numpy arrays (N, C, H, W) float32 standardised per channel, labels int64 from 0, plus a
fingerprint (sha256 of the raw arrays) that names exactly what a result was trained on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasdb import safe_pickle
from nasdb.errors import IngestError, NasdbError

CIFAR10_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")
IMAGENET16_TRAIN = tuple(f"train_data_batch_{i}" for i in range(1, 11))
IMAGENET16_CLASSES = 120
PACKAGED = ("digits",)


class DatasetError(NasdbError):
    """A dataset directory or file that is missing, of the wrong shape or class count."""


@dataclass(frozen=True)
class ImageData:
    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    valid_x: np.ndarray
    valid_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: int
    fingerprint: str

    @property
    def channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def size(self) -> int:
        return int(self.train_x.shape[2])


def _fingerprint(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _split_valid(x, y, seed: int = 0, fraction: float = 0.5):
    """Split a held-out set in two halves (valid, test) by a fixed permutation."""
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(len(y) * fraction)
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def _finish(name, train_x, train_y, held_x, held_y, classes) -> ImageData:
    """Standardise with the training set's channel statistics; halve the held-out set."""
    fingerprint = _fingerprint(train_x, train_y, held_x, held_y)
    train = train_x.astype(np.float32)
    mean = train.mean(axis=(0, 2, 3), keepdims=True)
    std = train.std(axis=(0, 2, 3), keepdims=True) + 1e-6
    held = (held_x.astype(np.float32) - mean) / std
    vx, vy, tx, ty = _split_valid(held, held_y.astype(np.int64))
    return ImageData(
        name, (train - mean) / std, train_y.astype(np.int64), vx, vy, tx, ty, classes, fingerprint
    )


def _batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: CIFAR's are Python 2 pickles, ImageNet16's Python 3 ones."""
    obj = safe_pickle.loads(
        safe_pickle.read_bytes(path), path, safe_pickle.NUMPY_ARRAYS, encoding="latin1"
    )
    if isinstance(obj, dict):
        obj = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}
    if not isinstance(obj, dict) or "data" not in obj or label_key not in obj:
        raise DatasetError(f"{path}: expected a dict with 'data' and {label_key!r}")
    data = np.asarray(obj["data"])
    labels = np.asarray(obj[label_key], dtype=np.int64)
    if data.ndim != 2 or len(data) != len(labels):
        raise DatasetError(f"{path}: 'data' is {data.shape}, expected (N, C*H*W) for N labels")
    return data, labels


def _images(path: Path, data: np.ndarray, size: int) -> np.ndarray:
    if data.shape[1] != 3 * size * size:
        raise DatasetError(
            f"{path}: rows of {data.shape[1]} values, expected 3x{size}x{size}={3 * size * size}"
        )
    return data.reshape(-1, 3, size, size)


def _check_labels(path: Path, labels: np.ndarray, classes: int) -> None:
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise DatasetError(
            f"{path}: labels {labels.min()}..{labels.max()}, expected 0..{classes - 1} "
            f"({classes} classes)"
        )


def read_cifar(directory: Path) -> ImageData:
    """``cifar-10-batches-py`` (data_batch_1..5, test_batch) or ``cifar-100-python``."""
    directory = Path(directory)
    if (directory / "train").is_file():
        name, classes, key = "cifar100", 100, "fine_labels"
        train_files, test_file = ["train"], "test"
    else:
        name, classes, key = "cifar10", 10, "labels"
        train_files, test_file = list(CIFAR10_FILES), "test_batch"
    xs, ys = [], []
    for f in [*train_files, test_file]:
        data, labels = _batch(directory / f, key)
        _check_labels(directory / f, labels, classes)
        xs.append(_images(directory / f, data, 32))
        ys.append(labels)
    return _finish(name, np.concatenate(xs[:-1]), np.concatenate(ys[:-1]), xs[-1], ys[-1],
                   classes)


def read_imagenet16(directory: Path, classes: int = IMAGENET16_CLASSES) -> ImageData:
    """ImageNet16 batches; labels there count from 1, and only classes 1..``classes`` stay."""
    directory = Path(directory)
    parts = [_batch(directory / f, "labels") for f in IMAGENET16_TRAIN]
    val_x, val_y = _batch(directory / "val_data", "labels")

    def keep(path, data, labels):
        labels = labels - 1
        mask = (labels >= 0) & (labels < classes)
        return _images(path, data[mask], 16), labels[mask]

    train = [keep(directory / f, d, y) for f, (d, y) in zip(IMAGENET16_TRAIN, parts, strict=True)]
    train_x = np.concatenate([x for x, _ in train])
    train_y = np.concatenate([y for _, y in train])
    test_x, test_y = keep(directory / "val_data", val_x, val_y)
    if len(np.unique(train_y)) != classes:
        raise DatasetError(
            f"{directory}: {len(np.unique(train_y))} classes among labels 1..{classes}, "
            f"expected {classes}"
        )
    return _finish(f"imagenet16-{classes}", train_x, train_y, test_x, test_y, classes)


def _digits_file() -> Path:
    """scikit-learn's ``digits.csv.gz``, found without importing scikit-learn: the import
    costs seconds in every process that trains on digits (each spawned training worker)."""
    from importlib.util import find_spec

    spec = find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return path
    raise DatasetError("the digits dataset needs scikit-learn: pip install 'nasdb[train]'")


def read_digits() -> ImageData:
    """scikit-learn's 1,797 8x8 digits (bundled with the package): 60 % train, 20/20 held out.

    Read as ``sklearn.datasets.load_digits`` reads it: one CSV row per image, label last.
    """
    data = np.loadtxt(_digits_file(), delimiter=",")
    x = data[:, :-1].reshape(-1, 1, 8, 8).astype(np.float32)
    y = data[:, -1].astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    cut = int(len(y) * 0.6)
    tr, held = order[:cut], order[cut:]
    return _finish("digits", x[tr], y[tr], x[held], y[held], 10)


def read(data: str | Path) -> ImageData:
    """A dataset by packaged name (``digits``) or directory, recognised by its files."""
    if str(data) in PACKAGED:
        return read_digits()
    directory = Path(data)
    if not directory.is_dir():
        raise DatasetError(
            f"dataset {str(data)!r}: no such directory; expected a directory of CIFAR-10/100 "
            "python batches or ImageNet16 batches, or one of: " + ", ".join(PACKAGED)
        )
    try:
        if (directory / "data_batch_1").is_file() or (directory / "train").is_file():
            return read_cifar(directory)
        if (directory / "train_data_batch_1").is_file():
            return read_imagenet16(directory)
    except IngestError as exc:
        raise DatasetError(str(exc)) from None
    raise DatasetError(
        f"{directory}: holds neither CIFAR python batches (data_batch_1.., test_batch or "
        "train, test) nor ImageNet16 batches (train_data_batch_1..10, val_data)"
    )


# Graphs ----------------------------------------------------------------------------------
PACKAGED_GRAPHS = ("karate",)
PLANETOID_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph")
# Python 2 pickles (the upstream files) name builtins and copyreg by their old modules.
_PLANETOID_ALLOWED = safe_pickle.NUMPY_ARRAYS | {
    "collections.defaultdict",
    *(f"{m}.{n}" for m in ("builtins", "__builtin__") for n in ("list", "object")),
    "copyreg._reconstructor",
    "copy_reg._reconstructor",
}


@dataclass(frozen=True)
class GraphData:
    """One graph for node classification, with boolean train/valid/test node masks."""

    name: str
    x: np.ndarray  # (nodes, features) float32
    edge_index: np.ndarray  # (2, edges) int64
    y: np.ndarray  # (nodes,) int64
    train_mask: np.ndarray
    valid_mask: np.ndarray
    test_mask: np.ndarray
    classes: int
    fingerprint: str

    @property
    def features(self) -> int:
        return int(self.x.shape[1])


def _graph(name, x, edge_index, y, train, valid, test) -> GraphData:
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    edge_index = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
    fingerprint = _fingerprint(x, edge_index, y, train, valid, test)
    return GraphData(name, x, edge_index, y, train, valid, test, int(y.max()) + 1, fingerprint)


def read_karate() -> GraphData:
    """Zachary's karate club as torch-geometric bundles it (34 nodes, 4 classes, no download):
    its one labelled node per class trains; the other 30 are halved into valid and test."""
    try:
        from torch_geometric.datasets import KarateClub
    except ImportError:
        raise DatasetError("the karate dataset needs torch-geometric: pip install "
                           "'nasdb[torch]'") from None
    g = KarateClub()[0]
    train = g.train_mask.numpy()
    rest = np.flatnonzero(~train)
    order = np.random.default_rng(0).permutation(rest)
    valid = np.zeros_like(train)
    valid[order[: len(order) // 2]] = True
    test = ~train & ~valid
    return _graph("karate", g.x.numpy(), g.edge_index.numpy(), g.y.numpy(), train, valid, test)


def _planetoid_part(directory: Path, prefix: str, part: str):
    import scipy.sparse as sp

    path = directory / f"{prefix}.{part}"
    records = {
        "scipy.sparse.csr.csr_matrix": sp.csr_matrix,
        "scipy.sparse._csr.csr_matrix": sp.csr_matrix,
    }
    try:
        return safe_pickle.loads(
            safe_pickle.read_bytes(path), path, _PLANETOID_ALLOWED, records, encoding="latin1"
        )
    except IngestError as exc:
        raise DatasetError(str(exc)) from None


def _dense(path: Path, obj) -> np.ndarray:
    arr = obj.toarray() if hasattr(obj, "toarray") else np.asarray(obj)
    if arr.ndim != 2:
        raise DatasetError(f"{path}: expected a 2-d matrix, found shape {arr.shape}")
    return arr


def read_planetoid(directory: Path) -> GraphData:
    """Planetoid raw files (``ind.<name>.x`` ... ``ind.<name>.test.index``), the public split:
    the labelled training nodes, the next 500 for validation, and the listed test nodes."""
    directory = Path(directory)
    found = sorted(directory.glob("ind.*.graph"))
    if len(found) != 1:
        raise DatasetError(f"{directory}: expected one ind.<name>.graph file, found {len(found)}")
    prefix = found[0].name[: -len(".graph")]
    name = prefix.split(".", 1)[1]
    parts = {p: _planetoid_part(directory, prefix, p) for p in PLANETOID_PARTS}
    index_path = directory / f"{prefix}.test.index"
    try:
        test_index = np.array([int(line) for line in index_path.read_text().split()])
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{index_path}: expected one node number a line ({exc})") from None
    x, tx, allx = (_dense(directory / f"{prefix}.{p}", parts[p]) for p in ("x", "tx", "allx"))
    y, ty, ally = (_dense(directory / f"{prefix}.{p}", parts[p]) for p in ("y", "ty", "ally"))
    if len(tx) != len(test_index) or len(ty) != len(tx) or len(ally) != len(allx):
        raise DatasetError(f"{directory}: {prefix} parts disagree on node counts")
    first, last = test_index.min(), test_index.max()
    full_tx = np.zeros((last - first + 1, tx.shape[1]), tx.dtype)  # citeseer has gaps
    full_ty = np.zeros((last - first + 1, ty.shape[1]), ty.dtype)
    full_tx[test_index - first], full_ty[test_index - first] = tx, ty
    features = np.vstack([allx, full_tx])
    labels = np.vstack([ally, full_ty]).argmax(1)
    n = len(features)
    graph = parts["graph"]
    if not isinstance(graph, dict):
        raise DatasetError(f"{directory / (prefix + '.graph')}: expected a dict of neighbours")
    edges = [(int(s), int(t)) for s, nbrs in graph.items() for t in nbrs if s != t]
    edge_index = np.array(edges, dtype=np.int64).T if edges else np.zeros((2, 0), np.int64)
    if edge_index.size and edge_index.max() >= n:
        raise DatasetError(f"{directory}: the graph names node {edge_index.max()} of {n}")
    masks = [np.zeros(n, dtype=bool) for _ in range(3)]
    masks[0][: len(y)] = True
    masks[1][len(y) : len(y) + 500] = True
    masks[2][test_index] = True
    return _graph(name, features, edge_index, labels, *masks)


def read_graph(data: str | Path) -> GraphData:
    """A graph by packaged name (``karate``) or a directory of Planetoid raw files."""
    if str(data) in PACKAGED_GRAPHS:
        return read_karate()
    directory = Path(data)
    if not directory.is_dir():
        raise DatasetError(
            f"dataset {str(data)!r}: no such directory; expected a directory of Planetoid "
            "files (ind.<name>.x, ...), or one of: " + ", ".join(PACKAGED_GRAPHS)
        )
    return read_planetoid(directory)
