"""Surrogate speed and held-out quality on the real tables, one JSON object per line.

    python benchmarks/bench_surrogates.py --home CATALOG [--parts speed,acceptance,targets,ceiling]

``CATALOG`` is a catalog after ``nasdb ingest all``. Parts:

- ``speed``: fit seconds of each model on 10,000 NB101 cells (goal: trees 10 s, GIN
  300 s on the CPU) and prediction rate on 100,000 cells, model only and with features.
- ``acceptance``: held-out Kendall tau (and R², Spearman, sparse tau) of every model on
  NB201 CIFAR-10 (1,000 training cells), NB101 (10,000) and edge-GPU latency (500).
- ``targets``: the best tree model on every other target: NB201's three datasets,
  NAS-Bench-Graph per dataset, NAS-Bench-NLP, and latency/energy of every HW-NAS-Bench
  and HELP device and NAS-Bench-Graph.
- ``ceiling``: how well the table repeats itself. HW-NAS-Bench measured each cell's
  CIFAR-10 and CIFAR-100 network, which differ only in the classifier; per device and
  metric, the tau between the two and the noise ceiling it implies (the tau a perfect
  surrogate would reach, :func:`nasdb.surrogates.metrics.noise_ceiling`), next to every
  model's held-out tau from 500 cells, and edge-GPU latency from 2,000 and 10,000 cells.

The GIN runs only where torch-geometric is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time

import numpy as np
from nasdb.surrogates import metrics, models, training

import nasdb

NB201_PROXIES = ("logsynflow", "naswot", "params", "synflow", "nregions", "jacov")


def emit(**line) -> None:
    print(json.dumps(line), flush=True)


def available() -> list[str]:
    return [m for m in models.MODELS if importlib.util.find_spec(models.MODELS[m][1])]


THREADS: int | None = None


def fit(db, key, model, train_size, proxies=(), features=None, max_test=None, members=None):
    plan = training.Plan(
        key,
        model=model,
        features=features,
        proxies=proxies,
        train_size=train_size,
        members=members,
        max_test=max_test,
        threads=THREADS,
    )
    return training.fit(db, plan)


def report(what: str, fitted, **extra) -> None:
    sel, plan = fitted.card["selection"], fitted.plan
    emit(
        bench="held_out",
        what=what,
        model=plan.model,
        features=plan.feature_label,
        train=sel["train_rows"],
        scored=sel["scored_rows"],
        **{k: round(v, 4) for k, v in fitted.scores.items()},
        iso_kendall_tau=round(fitted.card["held_out_without_twins"]["kendall_tau"], 4),
        fit_seconds=fitted.card["fit_seconds"],
        **extra,
    )


def speed(db) -> None:
    key = db.resolve("nb101", task="cifar10", metric="test_accuracy")
    rng = np.random.default_rng(0)
    cells = np.sort(rng.choice(db.space("nb101").size, 100_000, replace=False))
    for model in available():
        kind = "graph" if model == "gin" else "flat+path"
        fitted = fit(db, key, model, 10_000, ("params",), kind, max_test=10_000)
        plan = fitted.plan
        X = training.inputs(db, "nb101", "cifar10", plan.features, plan.proxies, cells, True)
        t0 = time.perf_counter()
        fitted.model.predict(X)
        t1 = time.perf_counter()
        training.predict_batched(
            fitted.model, db, "nb101", "cifar10", plan.features, plan.proxies, cells, True
        )
        t2 = time.perf_counter()
        emit(
            bench="surrogate_speed",
            model=model,
            members=fitted.model.members,
            fit_10000_nb101_s=fitted.card["fit_seconds"],
            goal_fit_s=300 if model == "gin" else 10,
            predict_per_s=round(len(cells) / (t1 - t0)),
            predict_with_features_per_s=round(len(cells) / (t2 - t1)),
            goal_predict_per_s=100_000,
        )


def acceptance(db) -> None:
    c10 = db.resolve("nb201", task="cifar10", metric="test_accuracy")
    nb101 = db.resolve("nb101", task="cifar10", metric="test_accuracy")
    gpu = db.resolve("nb201", task="cifar10", metric="latency", device="edgegpu")
    for model in available():
        for proxies in ((), NB201_PROXIES):
            report("nb201 cifar10 test_accuracy", fit(db, c10, model, 1000, proxies), goal=0.9)
        report("nb101 test_accuracy", fit(db, nb101, model, 10_000, ("params",),
               max_test=50_000), goal=0.8)  # fmt: skip
        report("nb201 edgegpu latency", fit(db, gpu, model, 500), goal=0.95)


def targets(db, model: str = "lgb") -> None:
    for task in ("cifar10", "cifar100", "imagenet16-120"):
        key = db.resolve("nb201", task=task, metric="test_accuracy")
        have = training.available_proxies(db, key)
        proxies = tuple(p for p in NB201_PROXIES if p in have)
        report(f"nb201 {task} test_accuracy", fit(db, key, model, 1000, proxies))
    for task in db.tasks("nbgraph"):
        for metric in ("test_accuracy", "latency"):
            if metric in db.metrics("nbgraph", task):
                key = db.resolve("nbgraph", task=task, metric=metric)
                report(f"nbgraph {task} {metric}", fit(db, key, model, 1000))
    key = db.resolve("nbnlp", task="wikitext-2", metric="test_loss", fidelity=50)
    report("nbnlp wikitext-2 test_loss (all recipes, 80/20)", fit(db, key, model, None))
    for k in db.keys():
        if k.space == "nb201" and k.task == "cifar10" and k.device and k.seed is None:
            key = db.resolve("nb201", task="cifar10", metric=k.metric, device=k.device,
                             source=k.source)  # fmt: skip
            report(f"nb201 {k.device} {k.metric} ({k.source})", fit(db, key, model, 500))


def ceiling(db) -> None:
    from scipy.stats import kendalltau

    pairs = sorted(
        {(k.device, k.metric) for k in db.keys() if k.source == "nb201_hwnas" and k.device}
    )
    for device, metric in pairs:
        key, twin = (
            db.resolve("nb201", task=task, metric=metric, device=device, source="nb201_hwnas")
            for task in ("cifar10", "cifar100")
        )
        a, b = db.column(key), db.column(twin)
        both = np.isfinite(a) & np.isfinite(b)
        emit(
            bench="repeatability",
            what=f"nb201 {device} {metric}",
            cells=int(both.sum()),
            cifar10_vs_cifar100_tau=round(float(kendalltau(a[both], b[both]).statistic), 4),
            noise_ceiling_tau=round(metrics.noise_ceiling(a[both], b[both]), 4),
        )
        for model in available():
            report(f"nb201 {device} {metric}", fit(db, key, model, 500))
    gpu = db.resolve("nb201", task="cifar10", metric="latency", device="edgegpu")
    for size in (2000, 10_000):
        for model in available():
            report("nb201 edgegpu latency", fit(db, gpu, model, size))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True, help="A catalog after nasdb ingest all.")
    parser.add_argument("--parts", default="speed,acceptance,targets,ceiling")
    parser.add_argument("--threads", type=int, default=None, help="Per model (default: all).")
    args = parser.parse_args()
    global THREADS
    THREADS = args.threads
    db = nasdb.connect(args.home)
    parts = {
        "speed": speed,
        "acceptance": acceptance,
        "targets": targets,
        "ceiling": ceiling,
    }
    for part in args.parts.split(","):
        parts[part](db)


if __name__ == "__main__":
    main()
