"""Leave-one-out evaluation of transfer priors: each setting of a metric in turn is the
target and every other one a source (``nasdb transfer eval``).

Two questions per target: how well the prior ranks the target's architectures after k
random target measurements (Spearman ρ, Kendall τ, over random draws), and how much it
speeds up a search (evaluations until the target's top 1 %, regret after 20/50/100
evaluations, with and without the prior, over seeds). HELP's protocol (NeurIPS 2021:
nine meta-training devices, six meta-test devices, 10 samples) is one call away.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasdb import transfer
from nasdb.errors import NasdbError

# HELP, Table 2 (NAS-Bench-201, 10 samples): Spearman ρ of HELP on each meta-test device.
HELP_SOURCES = (
    "gtx1080ti_bs1",
    "gtx1080ti_bs32",
    "gtx1080ti_bs256",
    "xeon_silver_4114",
    "xeon_silver_4210r",
    "samsung_a50",
    "pixel3",
    "essential_ph1",
    "samsung_s7",
)
HELP_PUBLISHED = {
    "titan_rtx_bs256": 0.987,
    "xeon_gold_6226": 0.989,
    "pixel2": 0.802,
    "raspi4": 0.890,
    "eyeriss": 0.940,
    "fpga": 0.985,
}
REGRET_AT = (20, 50, 100)


def _truth(db, space: str, metric: str, target: transfer.Setting) -> np.ndarray:
    return transfer._column(db, space, metric, target)


def _ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of its 95 % confidence interval (t distribution)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if len(values) < 2 or np.ptp(values) == 0:
        return float(values.mean()), 0.0
    return float(values.mean()), float(stats.sem(values) * stats.t.ppf(0.975, len(values) - 1))


def _ranks(prior: transfer.Prior, truth: np.ndarray, query: np.ndarray) -> tuple[float, float]:
    from scipy.stats import kendalltau, spearmanr

    ok = query[~np.isnan(prior.mean[query]) & ~np.isnan(truth[query])]
    return float(spearmanr(prior.mean[ok], truth[ok])[0]), float(
        kendalltau(prior.mean[ok], truth[ok])[0]
    )


def _trim(indices: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """HELP's outlier removal: the middle 80 % of ``indices`` by the target's value."""
    order = indices[np.argsort(truth[indices], kind="stable")]
    return order[int(len(order) * 0.1) : int(len(order) * 0.9)]


def rank_rows(
    db,
    space: str,
    metric: str,
    targets: Sequence[transfer.Setting],
    shots: Sequence[int] = (0, 5, 10, 20, 50),
    draws: int = 10,
    sources: Sequence[str] | None = None,
    pool: np.ndarray | None = None,
    query: np.ndarray | None = None,
    trim: bool = False,
) -> list[dict]:
    """Rank correlation of each target's prior with its truth after k random measurements.

    ``pool``: where the k samples are drawn from, ``query``: where the correlation is
    measured (default: every architecture with a value); ``trim`` keeps the middle 80 % of
    both by the target's value, as HELP does."""
    rows = []
    for target in targets:
        truth = _truth(db, space, metric, target)
        measured = np.flatnonzero(~np.isnan(truth))
        draw_from = measured if pool is None else pool
        scored = measured if query is None else query
        if trim:
            draw_from, scored = _trim(draw_from, truth), _trim(scored, truth)
        base = transfer.build(
            db,
            space,
            task=target.task,
            metric=metric,
            device=target.device,
            sources=sources,
            model="zero-shot",
        )
        for k in shots:
            if k > len(draw_from):
                raise NasdbError(
                    f"k={k} target samples, but {target.describe()} has only {len(draw_from):,} "
                    "architectures to draw from"
                )
            rhos, taus = [], []
            for draw in range(draws if k else 1):
                rng = np.random.default_rng(draw)
                picked = rng.choice(draw_from, k, replace=False) if k else []
                prior = base.update({int(i): float(truth[i]) for i in picked}) if k else base
                rho, tau = _ranks(prior, truth, scored)
                rhos.append(rho)
                taus.append(tau)
            rho, rho_ci = _ci(rhos)
            rows.append(
                {
                    "target": target.describe(),
                    "k": k,
                    "spearman": round(rho, 4),
                    "spearman_ci": round(rho_ci, 4),
                    "kendall": round(float(np.mean(taus)), 4),
                    "draws": len(rhos),
                }
            )
    return rows


def help_rows(db, draws: int = 50) -> list[dict]:
    """HELP's protocol on NB201: sources its nine meta-training devices, 10 target samples
    drawn from architectures 0-899, scored on 900-1899 (HELP's trimmed query set) and on
    all 15,625 cells; next to HELP's published ρ and the best-agreeing single source."""
    from scipy.stats import spearmanr

    sources = [f"cifar10/{d}" for d in HELP_SOURCES]
    rows = []
    for device, published in HELP_PUBLISHED.items():
        target = transfer.Setting("cifar10", device)
        truth = _truth(db, "nb201", "latency", target)
        pool, query = _trim(np.arange(900), truth), _trim(np.arange(900, 1900), truth)
        base = transfer.build(
            db,
            "nb201",
            task="cifar10",
            metric="latency",
            device=device,
            sources=sources,
            model="zero-shot",
        )
        ours_all, ours_trim, agree = [], [], []
        for draw in range(draws):
            picked = np.random.default_rng(draw).choice(pool, 10, replace=False)
            prior = base.update({int(i): float(truth[i]) for i in picked})
            ours_all.append(spearmanr(prior.mean, truth)[0])
            ours_trim.append(spearmanr(prior.mean[query], truth[query])[0])
            best = max(
                range(base._values.shape[1]),
                key=lambda j: spearmanr(base._values[picked, j], truth[picked])[0],
            )
            agree.append(spearmanr(base._values[query, best], truth[query])[0])
        rows.append(
            {
                "device": device,
                "help_published": published,
                "nasdb_trimmed": round(float(np.mean(ours_trim)), 4),
                "nasdb_all": round(float(np.mean(ours_all)), 4),
                "best_source_trimmed": round(float(np.mean(agree)), 4),
                "draws": draws,
            }
        )
    return rows


def search_rows(
    db,
    space: str,
    metric: str,
    targets: Sequence[transfer.Setting],
    algorithm: str = "rea",
    seeds: int = 50,
    budget: int = 100,
    prior: str = "zero-shot",
) -> list[dict]:
    """Evaluations until the target's top 1 % and regret after 20/50/100 evaluations, for
    ``algorithm`` with and without the prior (the same seeds)."""
    from nasdb import runner
    from nasdb.db import _UNSET

    rows = []
    for target in targets:
        for use in (None, prior):
            bench = db.benchmark(
                space,
                target.task,
                metric,
                prior=use,
                device=target.device if target.device else _UNSET,
            )
            sign = bench.signs[0]
            column = bench._primary[bench.fidelity] * sign
            best = column[bench.valid].max()
            top = np.quantile(column[bench.valid], 0.99)
            hits, regrets = [], {n: [] for n in REGRET_AT}
            for seed in range(seeds):
                traj = runner.run(algorithm, bench, seed, runner.Budget(budget))
                seen = np.maximum.accumulate(column[np.asarray(traj.arch)])
                reached = np.flatnonzero(seen >= top)
                hits.append(reached[0] + 1 if len(reached) else np.nan)
                for n in REGRET_AT:
                    regrets[n].append(best - seen[min(n, len(seen)) - 1])
            found = np.asarray(hits, dtype=float)
            row = {
                "target": target.describe(),
                "prior": use or "none",
                "algorithm": algorithm,
                "seeds": seeds,
                "budget": budget,
                "reached_top1": int(np.isfinite(found).sum()),
                "evals_to_top1_median": float(
                    np.nanmedian(np.where(np.isnan(found), budget + 1, found))
                ),
            }
            for n in REGRET_AT:
                mean, ci = _ci(regrets[n])
                row[f"regret@{n}"] = round(mean, 4)
                row[f"regret@{n}_ci"] = round(ci, 4)
            rows.append(row)
    return rows


def plot(rank: list[dict], search: list[dict], path) -> None:
    """Rank correlation against k per target, and evaluations to the top 1 % with and
    without the prior."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for target in dict.fromkeys(r["target"] for r in rank):
        pts = [r for r in rank if r["target"] == target]
        axes[0].plot([r["k"] for r in pts], [r["spearman"] for r in pts], marker="o", label=target)
    axes[0].set(xlabel="target samples k", ylabel="Spearman ρ", title="prior vs truth")
    if rank:
        axes[0].legend(fontsize=7, ncol=2)
    names = list(dict.fromkeys(r["target"] for r in search))
    x = np.arange(len(names))
    for offset, use in ((-0.2, False), (0.2, True)):
        vals = [
            next(
                r["evals_to_top1_median"]
                for r in search
                if r["target"] == n and (r["prior"] != "none") == use
            )
            for n in names
        ]
        axes[1].bar(x + offset, vals, width=0.4, label="with prior" if use else "without")
    axes[1].set_xticks(x, names, rotation=45, ha="right", fontsize=7)
    axes[1].set(ylabel="evaluations to top 1 % (median)", title="search")
    if search:
        axes[1].legend()
    fig.savefig(path)
    plt.close(fig)
