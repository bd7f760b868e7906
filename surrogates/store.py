"""Fitted surrogates in the catalog: model files, a card, a row in ``surrogates`` and
their predictions in ``predictions``.

    models/<name>.g<g>/card.json       what was fitted on which rows, how, and how well
    models/<name>.g<g>/card.md         the same for people
    models/<name>.g<g>/member-<k>.*    one file per ensemble member (the libraries' formats)
    surrogates/<name>.g<g>.parquet     one row: the ``surrogates`` view
    predictions/<name>.g<g>.parquet    the model's answer for every architecture the catalog
                                       knows in its space: the ``predictions`` view

The three are committed together as one catalog generation (see :mod:`nasdb.catalog`),
so readers see the old surrogate or the whole new one. Loading checks the card's format
and space and every file's sha256 before any library reads a byte of it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
from nasdb.loaders.base import sha256
from nasdb.surrogates import models

from nasdb.errors import SurrogateError

FORMAT = 1
MODELS_DIR = "models"
LIBRARIES = ("nasdb", "numpy", "xgboost", "lightgbm", "torch", "torch-geometric", "scipy")
# Other distributions that install a library under the same name.
BUILDS = {"xgboost": ("xgboost-cpu",)}


def versions() -> dict[str, str]:
    out = {}
    for lib in LIBRARIES:
        for dist in (lib, *BUILDS.get(lib, ())):
            try:
                out[lib] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return out


def model_dir(catalog, name: str) -> Path:
    """The model directory of the current generation (where it would be, if none)."""
    path = catalog.current().path(MODELS_DIR, name)
    return path if path is not None else catalog.table_dir(MODELS_DIR) / name


def names(catalog) -> list[str]:
    return catalog.current().stems("surrogates")


def save(tx, name: str, model, card: dict) -> dict:
    """Stage the model files and card in transaction ``tx``; returns the card as stored."""
    stored = {}

    def build(tmp: Path) -> None:
        files = model.save(tmp)
        stored.update(
            format=FORMAT,
            name=name,
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **card,
            files={f: sha256(tmp / f) for f in files},
            libraries=versions(),
        )
        (tmp / "card.json").write_text(json.dumps(stored, indent=2) + "\n")
        (tmp / "card.md").write_text(render(stored))

    tx.put_dir(MODELS_DIR, name, build)
    return stored


def read_card(catalog, name: str) -> dict:
    directory = model_dir(catalog, name)
    path = directory / "card.json"
    if not directory.is_dir():
        known = ", ".join(names(catalog)) or "none (fit one with nasdb surrogate fit)"
        raise SurrogateError(f"surrogate {name!r}: no model directory {directory}; fitted: {known}")
    try:
        card = json.loads(path.read_text())
    except FileNotFoundError:
        raise SurrogateError(f"surrogate {name!r}: {path} is missing") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise SurrogateError(f"surrogate {name!r}: {path} is not a readable JSON card") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        found = card.get("format") if isinstance(card, dict) else None
        raise SurrogateError(
            f"surrogate {name!r}: {path} has card format {found!r}, this nasdb reads {FORMAT}; "
            "fit it again"
        )
    try:
        card["target"]["space"], card["model"]["kind"], card["features"]["kind"]  # noqa: B018
        card["files"]  # noqa: B018
    except (KeyError, TypeError):
        raise SurrogateError(f"surrogate {name!r}: {path} lacks target, model or files") from None
    _check_stored(catalog, name, path)
    return card


def _check_stored(catalog, name: str, path: Path) -> None:
    """The card must be the one the catalog's manifest recorded when the model was stored:
    the card is what vouches for the model files, so an edited card could vouch for others
    or change how they are read."""
    entry = catalog.current().entry(MODELS_DIR, name) or {}
    recorded = (entry.get("files") or {}).get(path.name)
    if recorded is not None and sha256(path) != recorded["sha256"]:
        raise SurrogateError(
            f"surrogate {name!r}: {path} is not the card stored with the model (its sha256 "
            "is not the catalog manifest's); fit it again"
        )


def load(catalog, name: str):
    """The model and card of a fitted surrogate, after checking every file."""
    card = read_card(catalog, name)
    directory = model_dir(catalog, name)
    for file, digest in card["files"].items():
        path = directory / file
        if not path.is_file():
            raise SurrogateError(f"surrogate {name!r}: model file {path} is missing")
        if sha256(path) != digest:
            raise SurrogateError(
                f"surrogate {name!r}: model file {path} is corrupt (its sha256 is not the "
                "one in card.json); fit it again"
            )
    model = read_members(name, card["model"]["kind"], directory, list(card["files"]),
                         card["model"]["hyperparameters"])  # fmt: skip
    return model, card


def read_members(name: str, kind: str, directory: Path, files: list[str], hyperparameters):
    """A model from its member files, read by its library's own loader; a file the library
    cannot read (damaged, or a pickle posing as one) is one SurrogateError line."""
    cls = models.get(kind)
    try:
        return cls.load(directory, files, hyperparameters)
    except SurrogateError:
        raise
    except Exception as exc:  # the libraries' own errors for a file they cannot read
        raise SurrogateError(
            f"surrogate {name!r}: cannot read its model files ({type(exc).__name__})"
        ) from None


def registry_row(card: dict, predictions: int) -> dict:
    t, sel, held = card["target"], card["selection"], card["held_out"]
    return {
        "name": card["name"],
        **{k: t[k] for k in ("space", "task", "metric", "device", "fidelity", "seed", "unit")},
        "source": t["source"],
        "model": card["model"]["kind"],
        "features": card["features"]["kind"],
        "proxies": card["features"]["proxies"],
        "split": sel["split"],
        "train_rows": sel["train_rows"],
        "held_out_rows": sel["held_out_rows"],
        **{k: held[k] for k in ("r2", "kendall_tau", "spearman", "sparse_kendall_tau")},
        "fit_seconds": card["fit_seconds"],
        "predictions": predictions,
        "created_at": datetime.fromisoformat(card["created_at"]),
        "path": f"{MODELS_DIR}/{card['name']}",
        **iso_columns(card),
    }


def iso_columns(card: dict) -> dict:
    """The iso-aware held-out scores as ``surrogates`` columns (NULL on older cards)."""
    iso = card.get("held_out_without_twins") or {}
    return {
        "iso_held_out_rows": iso.get("rows"),
        **{f"iso_{k}": iso.get(k) for k in ("r2", "kendall_tau", "spearman", "sparse_kendall_tau")},
    }


def write_tables(tx, card: dict, indices: np.ndarray, mean, std, arch_ids) -> None:
    """Stage the ``surrogates`` row and the ``predictions`` file of a saved surrogate."""
    import pyarrow as pa

    from nasdb.schema import PREDICTIONS, SURROGATES

    t = card["target"]
    n = len(indices)
    preds = pa.table(
        {
            "space": pa.array([t["space"]] * n),
            "arch_id": pa.array(arch_ids, pa.string()),
            "arch_index": pa.array(indices, pa.int64()),
            "task": pa.array([t["task"]] * n, pa.string()),
            "device": pa.array([t["device"]] * n, pa.string()),
            "metric": pa.array([t["metric"]] * n),
            "fidelity": pa.array([t["fidelity"]] * n, pa.int32()),
            "value": pa.array(mean, pa.float64()),
            "std": pa.array(std, pa.float64()),
            "unit": pa.array([t["unit"]] * n),
            "surrogate": pa.array([card["name"]] * n),
        }
    ).cast(PREDICTIONS)
    row = pa.Table.from_pylist([registry_row(card, n)], schema=SURROGATES)
    tx.put("predictions", card["name"], preds)
    tx.put("surrogates", card["name"], row)


def save_fitted(db, fitted, name: str, predictions: bool = True) -> dict:
    """Store a fitted surrogate, its registry row and (unless told not to) its predictions
    for every architecture the catalog knows in its space."""
    from nasdb.surrogates import training

    check_name(name)
    key, plan = fitted.plan.key, fitted.plan
    # Predictions first, so that the writer lock is held only while files are written.
    idx = np.empty(0, dtype=np.int64)
    if predictions:  # every architecture a surrogate may answer for: known, not infeasible
        idx = np.setdiff1d(np.flatnonzero(db.known(key.space)), db.infeasible(key))
    mean, std = training.predict_batched(
        fitted.model, db, key.space, key.task, plan.features, plan.proxies, idx, plan.canonical
    )
    arch_ids = db.space(key.space).arch_ids(idx)
    with db.catalog.transaction() as tx:
        card = save(tx, name, fitted.model, fitted.card)
        write_tables(tx, card, idx, mean, std, arch_ids)
    db.refresh()
    return card


def check_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", name):
        raise SurrogateError(
            f"surrogate name {name!r}: use letters, digits, '_', '.' and '-' (128 at most)"
        )


def default_name(plan) -> str:
    k = plan.key
    parts = [k.space, k.task, k.metric, k.device, plan.model]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(str(p) for p in parts if p is not None))


def render(card: dict) -> str:
    """A model card people read: what, from which rows, how, how well."""
    t, sel, held = card["target"], card["selection"], card["held_out"]
    target = ", ".join(f"{k}={v}" for k, v in t.items() if v is not None)
    hp = ", ".join(f"{k}={v}" for k, v in card["model"]["hyperparameters"].items())
    lines = [
        f"# Surrogate `{card['name']}`",
        "",
        f"Predicts {t['metric']} ({target}) with an ensemble of "
        f"{card['model']['hyperparameters']['members']} {card['model']['kind']} models.",
        "",
        "## Data",
        f"- Selected with: `{sel['sql']}` and parameters {json.dumps(sel['params'])}",
        f"- {sel['measured_rows']:,} measured rows; {sel['train_rows']:,} trained on "
        f"({sel['split']} split, seed {sel['split_seed']}), sha256 {sel['train_sha256']}",
        f"- Held out: {sel['held_out_rows']:,} rows, {sel['scored_rows']:,} scored",
        "",
        "## Model",
        f"- Features: {card['features']['kind']}"
        + (
            f" + proxies {', '.join(card['features']['proxies'])}"
            if card["features"]["proxies"]
            else ""
        )
        + (
            " (cells described by their isomorphism class)"
            if card["features"]["iso_canonical"]
            else ""
        ),
        f"- Hyperparameters: {hp}",
        f"- Fit in {card['fit_seconds']} s; files: {', '.join(card['files'])}",
        f"- Libraries: {', '.join(f'{k} {v}' for k, v in card['libraries'].items())}",
        "",
        "## Held-out scores",
        *(f"- {k}: {v:.4f}" for k, v in held.items()),
        "",
        *render_iso(card),
    ]
    return "\n".join(lines)


def render_iso(card: dict) -> list[str]:
    iso = card.get("held_out_without_twins")
    if not iso:
        return []
    scores = {k: v for k, v in iso.items() if k not in ("rows", "twin_fraction")}
    return [
        "## Held-out scores without isomorphic twins (iso-aware)",
        f"- {iso['twin_fraction']:.1%} of the scored held-out architectures have an "
        "isomorphic twin in the training set (the same function, so predicting them is "
        f"recall); on the other {iso['rows']:,}:",
        *(f"- {k}: {v:.4f}" for k, v in scores.items()),
        "",
    ]
