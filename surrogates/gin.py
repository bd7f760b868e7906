"""Graph isomorphism network (GIN) regressor over the architectures' DAGs.

Each member reads a cell as its node-labelled graph (see :mod:`nasdb.spaces.graphs`):
one-hot ops, ``GINConv`` layers passing messages along and against the edges (a cell's
accuracy depends on what feeds a node and on what it feeds), a sum pool of every layer,
then an MLP head that also reads the per-graph ``extra`` features (zero-cost proxies).
Extras are standardised with training statistics and NaN or infinite values count as
missing (0 after standardising); heavy-tailed proxies such as synflow are best passed as
sign(x) * log1p(|x|), since the raw values overflow float32.

torch and torch-geometric are optional for nasdb, so they are imported on first use.
Mini-batches are built straight from the padded numpy arrays as one disjoint-union graph;
a member file is a plain dict of tensors (weights, architecture sizes, scaling statistics),
read back with ``weights_only=True`` so loading never unpickles code.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from nasdb.surrogates.base import Ensemble
from nasdb.surrogates.features import GraphInputs

from nasdb.errors import SurrogateError

_NEEDS = "the gin surrogate needs torch and torch-geometric: pip install 'nasdb[torch]'"
_PREDICT_BATCH = 512  # fixed, so a reloaded model predicts bit-identically; cache-sized
_META = ("n_ops", "n_extra", "hidden", "layers")  # sizes stored with the weights


def _torch():
    """torch and torch_geometric.nn, or a one-line SurrogateError saying how to get them."""
    try:
        import torch
        import torch_geometric.nn as pyg
    except ImportError:
        raise SurrogateError(_NEEDS) from None
    return torch, pyg


@functools.cache
def _net_class() -> type:
    """The member network; built on first use because torch is optional."""
    torch, pyg = _torch()
    nn = torch.nn

    def mlp(width_in: int, width: int) -> Any:
        return nn.Sequential(nn.Linear(width_in, width), nn.ReLU(), nn.Linear(width, width))

    class Net(nn.Module):
        """GIN over both edge directions, sum-pooled per layer, MLP head with extras."""

        def __init__(self, n_ops: int, n_extra: int, hidden: int, layers: int, dropout: float):
            super().__init__()
            for name, value in zip(_META, (n_ops, n_extra, hidden, layers), strict=True):
                self.register_buffer(name, torch.tensor(value, dtype=torch.int64))
            # scaling statistics, set from the training data
            self.register_buffer("x_mean", torch.zeros(n_extra, dtype=torch.float32))
            self.register_buffer("x_std", torch.ones(n_extra, dtype=torch.float32))
            self.register_buffer("y_mean", torch.zeros((), dtype=torch.float64))
            self.register_buffer("y_std", torch.ones((), dtype=torch.float64))
            # the training targets' range: the ranking loss fixes order, not scale, so
            # predictions beyond what was seen (an accuracy above 100 %) are squashed into a
            # band of 5 % of the range past its edge, keeping their order (see _bounded)
            self.register_buffer("y_low", torch.tensor(-np.inf, dtype=torch.float64))
            self.register_buffer("y_high", torch.tensor(np.inf, dtype=torch.float64))
            self.embed = nn.Linear(n_ops, hidden)
            self.forward_convs = nn.ModuleList(
                pyg.GINConv(mlp(hidden, hidden), train_eps=True) for _ in range(layers)
            )
            self.backward_convs = nn.ModuleList(
                pyg.GINConv(mlp(hidden, hidden), train_eps=True) for _ in range(layers)
            )
            self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
            width = (layers + 1) * hidden + n_extra
            self.head = nn.Sequential(
                nn.Linear(width, hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, hidden),
                nn.ReLU(),
                nn.Linear(hidden, 1),
            )

        def forward(self, x, edge_index, batch, n_graphs: int, extra):
            h = self.embed(x)
            pooled = [pyg.global_add_pool(h, batch, n_graphs)]
            back = edge_index.flip(0)
            for fwd, bwd, norm in zip(
                self.forward_convs, self.backward_convs, self.norms, strict=True
            ):
                h = torch.relu(norm(fwd(h, edge_index) + bwd(h, back))) + h
                pooled.append(pyg.global_add_pool(h, batch, n_graphs))
            if extra is not None:
                pooled.append(extra)
            return self.head(torch.cat(pooled, dim=1)).squeeze(1)

    return Net


def _union(ops: np.ndarray, adjacency: np.ndarray, n_ops: int):
    """One disjoint-union graph of a batch: (one-hot x, edge_index, batch vector) tensors.

    Padding nodes (op -1) are dropped; node ids are the running count of present nodes, so
    an edge i -> j of graph g becomes ids[g, i] -> ids[g, j].
    """
    torch, _ = _torch()
    present = ops >= 0
    ids = np.cumsum(present.ravel()).reshape(present.shape) - 1
    g, i, j = np.nonzero(adjacency)
    edge_index = np.stack([ids[g, i], ids[g, j]]).astype(np.int64)
    codes = ops[present].astype(np.int64)
    x = np.zeros((len(codes), n_ops), dtype=np.float32)
    x[np.arange(len(codes)), codes] = 1.0
    batch = np.nonzero(present)[0].astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(edge_index), torch.from_numpy(batch)


def _batches(n: int, batch: int, steps: int, gen) -> Iterator[np.ndarray]:
    """``steps`` mini-batches of row numbers, a new shuffle of the rows every epoch."""
    torch, _ = _torch()
    done = 0
    while True:
        order = torch.randperm(n, generator=gen).numpy()
        for start in range(0, n, batch):
            if done == steps:
                return
            done += 1
            yield order[start : start + batch]


def _schedule(steps: int, step: int) -> float:
    """Learning-rate factor: linear warm-up over the first tenth, then cosine decay to 0."""
    warm = max(1, steps // 10)
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1.0 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))


def _loss(pred, target, delta: float, rank_weight: float):
    """Huber loss plus a pairwise ranking loss.

    Benchmarks hold a few failed runs far below the rest; under squared error they dominate
    the fit, while what a search needs is the order among the good cells. Huber keeps their
    pull bounded; the logistic loss on every ordered pair of the batch penalises swapped
    ranks directly, however close the accuracies are.
    """
    torch, _ = _torch()
    loss = torch.nn.functional.huber_loss(pred, target, delta=delta)
    if rank_weight:
        sign = torch.sign(target[:, None] - target[None, :])
        pairs = sign != 0
        if pairs.any():
            diff = pred[:, None] - pred[None, :]
            loss = loss + rank_weight * torch.nn.functional.softplus(-sign * diff)[pairs].mean()
    return loss


def _set_scaling(net, y: np.ndarray, extra: np.ndarray | None) -> None:
    """Store the training statistics that standardise targets and extras in ``net``."""
    torch, _ = _torch()
    net.y_mean.fill_(float(y.mean()))
    net.y_std.fill_(float(y.std()) or 1.0)
    net.y_low.fill_(float(y.min()))
    net.y_high.fill_(float(y.max()))
    if extra is not None:
        finite = np.where(np.isfinite(extra), extra, np.nan)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            mean = np.nan_to_num(np.nanmean(finite, axis=0))
            std = np.nan_to_num(np.nanstd(finite, axis=0))
        net.x_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        net.x_std.copy_(torch.as_tensor(np.where(std > 0, std, 1.0), dtype=torch.float32))


def _bounded(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Values past [low, high] moved into a band of 5 % of the range beyond it by tanh:
    bounded like a clip, but strictly increasing, so no two predictions tie."""
    margin = 0.05 * (high - low)
    if not np.isfinite(margin) or margin <= 0:
        return values
    out = values.copy()
    up, down = values > high, values < low
    out[up] = high + margin * np.tanh((values[up] - high) / margin)
    out[down] = low - margin * np.tanh((low - values[down]) / margin)
    return out


def _check(X: Any) -> GraphInputs:
    """``X`` if it is a well-formed graph batch; a one-line error before torch sees it."""
    if not isinstance(X, GraphInputs):
        raise SurrogateError(f"gin: inputs must be graph features (GraphInputs), got {type(X)}")
    ops = np.asarray(X.ops)
    if ops.ndim != 2 or X.adjacency.shape != (*ops.shape, ops.shape[1]):
        raise SurrogateError("gin: ops must be (n, N) and adjacency (n, N, N)")
    if ops.size and (ops.max() >= X.n_ops or ops.min() < -1):
        raise SurrogateError(f"gin: op codes must lie in -1..{X.n_ops - 1}")
    return X


def _extra(X: GraphInputs) -> np.ndarray | None:
    """The extras as float64 (n, p), so statistics of large proxies do not overflow."""
    return None if X.extra is None else np.asarray(X.extra, dtype=np.float64).reshape(len(X), -1)


class GIN(Ensemble):
    kind = "gin"
    inputs = "graph"
    suffix = ".pt"
    default_members = 3
    defaults = {
        "hidden": 64,
        "layers": 3,
        "epochs": 200,  # passes over the training set, but at most max_steps batches
        "max_steps": 8000,
        "batch_size": 64,
        "learning_rate": 2e-3,  # after warm-up; cosine decay to 0
        "weight_decay": 1e-4,
        "dropout": 0.0,
        "huber_delta": 0.5,  # in target std units: failed runs far below the rest weigh less
        "rank_weight": 1.0,  # weight of the pairwise ranking loss next to the Huber loss
    }

    def __init__(
        self, members: int | None = None, seed: int = 0, threads: int | None = None, **params
    ):
        _torch()
        super().__init__(members=members, seed=seed, threads=threads, **params)

    @contextmanager
    def _threads(self) -> Iterator[None]:
        """Run with ``self.threads`` torch threads, one if None; restore the caller's setting.

        One thread by default, not torch's one per core: a batch here is a few hundred small
        graphs, so more threads gain little (1.5x on 2 idle cores when predicting, nothing
        when training), and when other work holds the cores their spin-waits at every op
        make each batch up to hundreds of times slower.
        """
        torch, _ = _torch()
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads or 1)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    # one member -------------------------------------------------------------------------
    def _fit_one(self, X, y, seed):
        torch, _ = _torch()
        X, p = _check(X), self.params
        extra = _extra(X)
        batch = max(1, min(int(p["batch_size"]), len(y)))
        per_epoch = -(-len(y) // batch)
        steps = max(1, min(int(p["epochs"]) * per_epoch, int(p["max_steps"])))
        # seeded inside a forked RNG so that fitting leaves the caller's torch RNG untouched
        with torch.random.fork_rng(devices=[]), self._threads():
            torch.manual_seed(seed)
            net = _net_class()(
                X.n_ops,
                0 if extra is None else extra.shape[1],
                int(p["hidden"]),
                int(p["layers"]),
                float(p["dropout"]),
            )
            _set_scaling(net, y, extra)
            target = torch.from_numpy((y - float(net.y_mean)) / float(net.y_std)).float()
            scaled = None if extra is None else self._scale(net, extra)
            opt = torch.optim.AdamW(
                net.parameters(),
                lr=float(p["learning_rate"]),
                weight_decay=float(p["weight_decay"]),
                fused=True,
            )
            sched = torch.optim.lr_scheduler.LambdaLR(opt, functools.partial(_schedule, steps))
            gen = torch.Generator().manual_seed(seed)
            net.train()
            for rows in _batches(len(y), batch, steps, gen):
                x, edges, vec = _union(X.ops[rows], X.adjacency[rows], X.n_ops)
                pred = net(x, edges, vec, len(rows), None if scaled is None else scaled[rows])
                loss = _loss(pred, target[rows], float(p["huber_delta"]), float(p["rank_weight"]))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        net.eval()
        return net

    @staticmethod
    def _scale(net, extra: np.ndarray):
        """Standardised extras with training statistics; missing (NaN, inf) become 0."""
        torch, _ = _torch()
        mean = net.x_mean.double().numpy()
        std = net.x_std.double().numpy()
        z = (extra - mean) / std
        return torch.from_numpy(np.where(np.isfinite(z), z, 0.0).astype(np.float32))

    def _predict_one(self, member, X):
        torch, _ = _torch()
        X = _check(X)
        extra = _extra(X)
        n_extra = int(member.n_extra)
        if X.n_ops != int(member.n_ops):
            raise SurrogateError(
                f"gin: model was trained on {int(member.n_ops)} op types, inputs have {X.n_ops}"
            )
        if (extra.shape[1] if extra is not None else 0) != n_extra:
            got = 0 if extra is None else extra.shape[1]
            raise SurrogateError(
                f"gin: model was trained with {n_extra} extra feature(s), inputs have {got}"
            )
        scaled = self._scale(member, extra) if n_extra else None
        out = np.empty(len(X), dtype=np.float64)
        member.eval()
        with self._threads(), torch.no_grad():
            for start in range(0, len(X), _PREDICT_BATCH):
                rows = slice(start, start + _PREDICT_BATCH)
                x, edges, vec = _union(X.ops[rows], X.adjacency[rows], X.n_ops)
                ex = None if scaled is None else scaled[rows]
                n = min(_PREDICT_BATCH, len(X) - start)
                out[rows] = member(x, edges, vec, n, ex).double().numpy()
        out = out * float(member.y_std) + float(member.y_mean)
        return _bounded(out, float(member.y_low), float(member.y_high))

    def _save_one(self, member, path: Path):
        torch, _ = _torch()
        state = {k: v.detach().clone() for k, v in member.state_dict().items()}
        torch.save(state, path)

    def _load_one(self, path: Path):
        torch, _ = _torch()
        path = Path(path)
        if not path.is_file():
            raise SurrogateError(f"{path}: gin model file not found")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # truncated or corrupt files surface as many exception types
            raise SurrogateError(f"{path}: not a readable gin model file ({_brief(exc)})") from None
        if not isinstance(state, dict) or not all(
            isinstance(state.get(k), torch.Tensor) and state[k].numel() == 1 for k in _META
        ):
            raise SurrogateError(f"{path}: not a gin model file (no architecture sizes)")
        net = _net_class()(**{k: int(state[k]) for k in _META}, dropout=0.0)
        want = net.state_dict()
        wrong = sorted(set(want) ^ set(state)) or [
            k
            for k in want
            if not isinstance(state[k], torch.Tensor) or state[k].shape != want[k].shape
        ]
        if wrong:
            raise SurrogateError(
                f"{path}: gin model file does not match its network (at {', '.join(wrong[:3])})"
            )
        net.load_state_dict(state, strict=True)
        net.eval()
        return net


def _brief(exc: Exception) -> str:
    """An exception as one short line: its type and the first sentence of its message."""
    lines = str(exc).strip().splitlines()
    text = lines[0].split(". ")[0][:160] if lines else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
