"""Training recipes as data: the upstream benchmarks' published ones and shorter fidelities.

A recipe is a flat JSON object; :func:`from_dict` accepts exactly the fields of
:class:`Recipe` and rejects any other, so a misspelt field never trains with a default.
The sha256 of the canonical JSON names a recipe in provenance.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from nasdb.errors import NasdbError

OPTIMIZERS = ("sgd", "rmsprop", "adam")
SCHEDULES = ("cosine", "constant")
AUGMENTATIONS = ("crop", "flip")


class RecipeError(NasdbError):
    """A recipe that names an unknown field or holds a value out of range."""


@dataclass(frozen=True)
class Recipe:
    name: str
    optimizer: str  # sgd | rmsprop | adam
    lr: float
    momentum: float
    weight_decay: float
    epochs: int
    batch_size: int
    schedule: str = "cosine"  # cosine annealing to 0 over all steps, or constant
    nesterov: bool = False
    rmsprop_eps: float = 1.0  # nasbench's RMSProp epsilon
    augment: tuple[str, ...] = ("crop", "flip")  # pad-4 random crop, horizontal flip
    label_smoothing: float = 0.0
    source: str = ""  # where the recipe is published

    def to_dict(self) -> dict:
        d = asdict(self)
        d["augment"] = list(self.augment)
        return d

    @property
    def sha256(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_epochs(self, epochs: int) -> Recipe:
        """The same recipe at another fidelity; the schedule spans the new length."""
        return validate(replace(self, epochs=epochs, name=f"{self.name.split('@')[0]}@{epochs}"))


PUBLISHED: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "nb201", "sgd", 0.1, 0.9, 5e-4, 200, 256, nesterov=True,
            source="NATS-Bench / NAS-Bench-201 (Dong & Yang, ICLR 2020), Table: 200 epochs",
        ),
        Recipe(
            "nb201-hp12", "sgd", 0.1, 0.9, 5e-4, 12, 256, nesterov=True,
            source="NATS-Bench topology search space, hp=12 (12-epoch) schedule",
        ),
        Recipe(
            "nb101", "rmsprop", 0.2, 0.9, 1e-4, 108, 256,
            source="nasbench config.py: lr 0.1 x 2 TPU shards, RMSProp eps 1.0, "
            "momentum 0.9, L2 1e-4, cosine by step, 108 epochs",
        ),
        Recipe(
            "nbmacro", "sgd", 0.1, 0.9, 5e-4, 50, 256,
            source="xiusu/NAS-Bench-Macro train/train.py: SGD momentum 0.9, lr 0.1, wd 5e-4, "
            "cosine, 50 epochs, batch 256, DARTS-style CIFAR-10 crop + flip",
        ),
        Recipe(
            "nb201-short", "sgd", 0.1, 0.9, 5e-4, 1, 256, nesterov=True,
            source="nb201 at 1 epoch: a fidelity for tests and demos",
        ),
        Recipe(
            "nbgraph", "adam", 0.01, 0.0, 5e-4, 200, 0, schedule="constant", augment=(),
            source="nasdb's default for full-graph GNN training (Adam, one of the optimizers "
            "NAS-Bench-Graph's hyperparameter search used); the bench's tuned per-dataset "
            "settings are not part of its released files",
        ),
    )
}  # fmt: skip


def validate(recipe: Recipe) -> Recipe:
    checks = [
        (recipe.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
        (recipe.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
        (set(recipe.augment) <= set(AUGMENTATIONS), f"augment from {', '.join(AUGMENTATIONS)}"),
        (recipe.lr > 0, "lr must be > 0"),
        (recipe.epochs >= 1, "epochs must be >= 1"),
        (recipe.batch_size >= 0, "batch_size must be >= 0 (0: the whole graph)"),
        (recipe.weight_decay >= 0 and recipe.momentum >= 0, "weight_decay, momentum >= 0"),
        (0 <= recipe.label_smoothing < 1, "label_smoothing must be in [0, 1)"),
    ]
    for ok, what in checks:
        if not ok:
            raise RecipeError(f"recipe {recipe.name!r}: {what}")
    return recipe


def from_dict(data: dict, where: str = "recipe") -> Recipe:
    names = {f.name for f in fields(Recipe)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise RecipeError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(names))}"
        )
    data = dict(data)
    if "augment" in data:
        data["augment"] = tuple(data["augment"])
    try:
        return validate(Recipe(**data))
    except TypeError as exc:
        raise RecipeError(f"{where}: {exc}") from None


def get(name_or_path: str | Path, epochs: int | None = None) -> Recipe:
    """A published recipe by name or a recipe JSON file, optionally at ``epochs``."""
    key = str(name_or_path)
    if key in PUBLISHED:
        recipe = PUBLISHED[key]
    elif key.endswith(".json"):
        path = Path(key)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise RecipeError(f"{path}: not a readable recipe JSON file ({exc})") from None
        if not isinstance(data, dict):
            raise RecipeError(f"{path}: a recipe is a JSON object")
        recipe = from_dict(data, str(path))
    else:
        raise RecipeError(
            f"unknown recipe {key!r}; published: {', '.join(PUBLISHED)}, or a .json file"
        )
    return recipe.with_epochs(epochs) if epochs is not None else recipe
