"""Train one architecture on one task under one recipe and seed: a pure function.

:func:`train` reads no catalog and writes nothing; it returns a :class:`TrainResult`
with per-epoch metrics, final accuracies and the provenance a stored row needs, so a
caller (the CLI, a search's miss policy, a worker process) decides what to keep.
Determinism: the seed fixes initial weights, batch order and augmentation; on CPU torch
runs deterministic algorithms in one thread unless ``threads`` asks for more.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from nasdb.networks.recipes import Recipe


@dataclass
class TrainResult:
    space: str
    arch_index: int
    task: str
    epochs: int
    seed: int
    valid_accuracy: float | None  # percent; None when training diverged
    test_accuracy: float | None
    train_seconds: float
    diverged: bool
    history: list[dict] = field(default_factory=list)  # one entry per epoch
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _device(device):
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _hardware(device) -> dict:
    import torch

    out = {"device": device.type, "machine": platform.machine(), "cpu": platform.processor()}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    return out


def _versions() -> dict:
    from importlib.metadata import version

    import torch

    return {
        "nasdb": version("nasdb"),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }


def _augment(x, recipe: Recipe, gen):
    """Pad-4 random crop and horizontal flip, drawn from the seeded generator."""
    import torch

    n, _, h, w = x.shape
    if "crop" in recipe.augment:
        padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
        dy = torch.randint(0, 9, (n,), generator=gen).tolist()
        dx = torch.randint(0, 9, (n,), generator=gen).tolist()
        x = torch.stack([padded[i, :, a : a + h, b : b + w] for i, (a, b) in enumerate(
            zip(dy, dx, strict=True))])
    if "flip" in recipe.augment:
        flip = (torch.rand(n, generator=gen) < 0.5).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    return x


def _optimizer(model, recipe: Recipe):
    import torch

    if recipe.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=recipe.lr,
            momentum=recipe.momentum,
            weight_decay=recipe.weight_decay,
            nesterov=recipe.nesterov,
        )
    return torch.optim.RMSprop(
        model.parameters(),
        lr=recipe.lr,
        alpha=0.9,
        eps=recipe.rmsprop_eps,
        momentum=recipe.momentum,
        weight_decay=recipe.weight_decay,
    )


def _accuracy(model, x, y, batch: int, device) -> float:
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = model(x[i : i + batch].to(device))
            correct += int((out.argmax(1).cpu() == y[i : i + batch]).sum())
    return 100.0 * correct / max(len(y), 1)


def train(space, arch_index, task, recipe: Recipe, seed: int, device=None, threads: int = 1,
          home=None) -> TrainResult:
    """Train ``arch_index`` of ``space`` (or the architecture in any form the space reads)
    on ``task`` (a registered task or its name).

    torch's thread count and determinism switch are set for the run and restored after.
    """
    import torch

    from nasdb import spaces
    from nasdb.networks import tasks

    task = task if isinstance(task, tasks.Task) else tasks.get(task, home)
    arch_index = spaces.get(space).index(arch_index)
    dev = _device(device)
    saved = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    if dev.type == "cpu":
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(True)
    try:
        return _train(space, arch_index, task, recipe, seed, dev, threads)
    finally:
        torch.set_num_threads(saved[0])
        torch.use_deterministic_algorithms(saved[1])


def _schedule(opt, recipe: Recipe, total: int):
    import torch

    if recipe.schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
        )
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)


def _step(loss, opt, sched) -> bool:
    """One optimiser and schedule step; False, with no step taken, once the loss diverged."""
    import torch

    if not torch.isfinite(loss):
        return False
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    return True


def _diverged(history: list, epoch: int):
    """The fit's return once training diverged: the epoch is recorded with no values."""
    history.append({"epoch": epoch, "train_loss": None, "valid_accuracy": None})
    return history, True, None, None


def _fit_images(model, data, recipe: Recipe, seed: int, dev):
    """Minibatch training; returns (history, diverged, valid %, test %)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    x, y = torch.from_numpy(data.train_x), torch.from_numpy(data.train_y)
    opt = _optimizer(model, recipe)
    sched = _schedule(opt, recipe, math.ceil(len(y) / recipe.batch_size) * recipe.epochs)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    vx, vy = torch.from_numpy(data.valid_x), torch.from_numpy(data.valid_y)
    history = []
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        order = torch.randperm(len(y), generator=gen)
        loss_sum, seen = 0.0, 0
        for i in range(0, len(y), recipe.batch_size):
            idx = order[i : i + recipe.batch_size]
            xb = _augment(x[idx], recipe, gen).to(dev)
            loss = loss_fn(model(xb), y[idx].to(dev))
            if not _step(loss, opt, sched):
                return _diverged(history, epoch)
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
        history.append(
            {
                "epoch": epoch,
                "train_loss": loss_sum / seen,
                "valid_accuracy": _accuracy(model, vx, vy, recipe.batch_size, dev),
                "lr": opt.param_groups[0]["lr"],
            }
        )
    tx, ty = torch.from_numpy(data.test_x), torch.from_numpy(data.test_y)
    test = _accuracy(model, tx, ty, recipe.batch_size, dev)
    return history, False, history[-1]["valid_accuracy"], test


def _fit_graph(model, data, recipe: Recipe, dev):
    """Full-graph training on the train mask (one step an epoch); same returns."""
    import torch

    x, ei = torch.from_numpy(data.x).to(dev), torch.from_numpy(data.edge_index).to(dev)
    y = torch.from_numpy(data.y).to(dev)
    masks = [torch.from_numpy(m).to(dev) for m in (data.train_mask, data.valid_mask,
                                                    data.test_mask)]
    opt = _optimizer(model, recipe)
    sched = _schedule(opt, recipe, recipe.epochs)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)

    def accuracy(mask) -> float:
        model.eval()
        with torch.no_grad():
            pred = model(x, ei).argmax(1)
        return 100.0 * int((pred[mask] == y[mask]).sum()) / max(int(mask.sum()), 1)

    history = []
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        loss = loss_fn(model(x, ei)[masks[0]], y[masks[0]])
        if not _step(loss, opt, sched):
            return _diverged(history, epoch)
        history.append(
            {
                "epoch": epoch,
                "train_loss": float(loss.detach()),
                "valid_accuracy": accuracy(masks[1]),
                "lr": opt.param_groups[0]["lr"],
            }
        )
    return history, False, history[-1]["valid_accuracy"], accuracy(masks[2])


def _train(space, arch_index, task, recipe: Recipe, seed: int, dev, threads: int) -> TrainResult:
    import torch

    from nasdb import networks
    from nasdb.networks import tasks
    from nasdb.networks.datasets import GraphData

    data = tasks.dataset(task)
    torch.manual_seed(seed)
    model = networks.build(space, int(arch_index), task.shape).to(dev)
    start = time.perf_counter()
    if isinstance(data, GraphData):
        history, diverged, valid, test = _fit_graph(model, data, recipe, dev)
    else:
        history, diverged, valid, test = _fit_images(model, data, recipe, seed, dev)
    seconds = time.perf_counter() - start
    provenance = {
        "recipe": recipe.to_dict(),
        "recipe_sha256": recipe.sha256,
        "dataset": task.data,
        "dataset_fingerprint": data.fingerprint,
        "seed": seed,
        "threads": threads if dev.type == "cpu" else None,
        "hardware": _hardware(dev),
        "versions": _versions(),
    }
    return TrainResult(
        space, int(arch_index), task.name, recipe.epochs, seed, valid, test, seconds, diverged,
        history, provenance,
    )
