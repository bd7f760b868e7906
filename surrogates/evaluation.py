"""Learning curves: each model's held-out scores over training-set sizes and splits."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from nasdb.surrogates import training

SCORES = ("r2", "kendall_tau", "spearman", "sparse_kendall_tau")


def learning_curve(
    db,
    key,
    models: Iterable[str],
    sizes: Iterable[int],
    splits: Iterable[str] = ("random",),
    seeds: Iterable[int] = (0,),
    *,
    features: str | None = None,
    proxies: tuple[str, ...] = (),
    members: int | None = None,
    max_test: int | None = None,
    threads: int | None = None,
    progress=None,
) -> list[dict]:
    """One row per (split, size, seed, model) with held-out scores and fit seconds."""
    rows = []
    combos = [(sp, n, s, m) for sp in splits for n in sizes for s in seeds for m in models]
    for split, size, seed, model in progress(combos) if progress else combos:
        plan = training.Plan(
            key,
            model=model,
            features=features,
            proxies=proxies,
            train_size=size,
            split=split,
            seed=seed,
            members=members,
            threads=threads,
            max_test=max_test,
        )
        fitted = training.fit(db, plan)
        sel = fitted.card["selection"]
        rows.append(
            {
                "model": model,
                "features": plan.feature_label,
                "split": split,
                "train_size": sel["train_rows"],
                "seed": seed,
                **{k: round(fitted.scores[k], 4) for k in SCORES},
                "iso_kendall_tau": round(fitted.card["held_out_without_twins"]["kendall_tau"], 4),
                "held_out": sel["scored_rows"],
                "fit_seconds": fitted.card["fit_seconds"],
            }
        )
    return rows


def plot(rows: list[dict], path: Path, title: str) -> Path:
    """Kendall tau and R² against training-set size, one line per model and split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")

    def line(r: dict) -> tuple:
        return r["model"], r["features"], r["split"]

    for ax, score in zip(axes, ("kendall_tau", "r2"), strict=True):
        for model, feats, split in sorted({line(r) for r in rows}):
            mine = [r for r in rows if line(r) == (model, feats, split)]
            sizes = sorted({r["train_size"] for r in mine})
            mean = [np.mean([r[score] for r in mine if r["train_size"] == n]) for n in sizes]
            ax.plot(sizes, mean, marker="o", label=f"{model} ({feats}, {split} split)")
        ax.set_xscale("log")
        ax.set_xlabel("training architectures")
        ax.set_ylabel(score.replace("_", " "))
        ax.grid(True, alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
               fontsize=7)  # fmt: skip
    fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
