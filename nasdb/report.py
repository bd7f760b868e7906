"""Reports on comparison runs: what "NAS evaluation is frustratingly hard" asks for.

Anytime curves (mean and median with 95 % bands, clipped to the range the runs span), a
final table (mean +- 95 % CI), relative improvement over random search, average ranks and
paired Wilcoxon tests against random search (runs are paired by seed). Needs the
``report`` extra (scipy, matplotlib).

Single-objective curves show the regret, the table's optimum minus the best so far (in
the objective's direction, so 0 is the optimum), on a log axis. Multi-objective runs are
judged by the hypervolume of everything they evaluated against the table's true Pareto
front (:mod:`nasdb.pareto`), ranked by it, with IGD beside it; their curves show the
hypervolume still missing after each trial, and a front plot shows what each algorithm
found next to the true front.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasdb import pareto
from nasdb.errors import NasdbError

BASELINE = "rs"


def _scipy_stats():
    try:
        from scipy import stats
    except ImportError:
        raise NasdbError("reports need scipy: pip install 'nasdb[report]'") from None
    return stats


def _frame(table):
    """(pandas frame, facts) of a runs table given as Arrow or pandas."""
    if hasattr(table, "to_pandas"):
        return table.to_pandas(), pareto.facts(table)
    return table, table.attrs.get("facts", {})


def _front(facts: dict, bench: str) -> pareto.Front | None:
    got = facts.get(bench, {}).get("front")
    return pareto.Front.from_json(got) if got else None


def _runs(df, benchmark: str, algorithm: str):
    sub = df[(df["benchmark"] == benchmark) & (df["algorithm"] == algorithm)]
    seeds = np.sort(sub["seed"].unique())
    return seeds, [sub[sub["seed"] == s].sort_values("trial") for s in seeds]


def _values(run) -> np.ndarray:
    return np.array([np.asarray(v, dtype=np.float64) for v in run["values"]])


def series(run, facts: dict, bench: str, y: str) -> np.ndarray:
    """One run's curve: ``best`` so far, its ``regret`` to the table's optimum, or for a
    multi-objective benchmark the hypervolume still missing to the true front's."""
    front = _front(facts, bench)
    if front is not None and y == "regret":
        return front.best_hv - front.anytime_hv(_values(run))
    best = run["best"].to_numpy(dtype=np.float64)
    optimum = facts.get(bench, {}).get("optimum")
    if y == "best" or optimum is None:
        return best
    sign = 1.0 if run["direction"].iloc[0] == "max" else -1.0
    return np.maximum(sign * (optimum - best), 0.0)


def matrix(df, benchmark: str, algorithm: str, facts: dict, y: str, x: str = "trials",
           grid=None):  # fmt: skip
    """(seeds, points) of :func:`series`, the seeds, and the x points.

    ``x="trials"``: one point per trial, shorter runs carried forward; ``x="time"``: the
    step function of simulated seconds sampled on ``grid``.
    """
    seeds, runs = _runs(df, benchmark, algorithm)
    curves = [series(r, facts, benchmark, y) for r in runs]
    if x == "trials":
        n = max(len(c) for c in curves)
        out = np.full((len(curves), n), np.nan)
        for i, c in enumerate(curves):
            out[i, : len(c)] = c
            out[i, len(c) :] = c[-1] if len(c) else np.nan
        return out, seeds, np.arange(1, n + 1)
    out = np.full((len(curves), len(grid)), np.nan)
    for i, (r, c) in enumerate(zip(runs, curves, strict=True)):
        pos = np.searchsorted(r["time"].to_numpy(), grid, side="right") - 1
        out[i] = np.where(pos >= 0, c[np.clip(pos, 0, None)], np.nan)
    return out, seeds, grid


def best_matrix(table, benchmark: str, algorithm: str, x: str = "trials", grid=None):
    """(seeds, points) best-so-far, the seeds, and the x points."""
    df, facts = _frame(table)
    return matrix(df, benchmark, algorithm, facts, "best", x, grid)


def bands(m: np.ndarray) -> dict[str, np.ndarray]:
    """Mean with its 95 % t-interval; median with its 95 % order-statistic interval.

    Every band is clipped to the range the runs span at that point: a t-interval over a
    few wide-apart runs would otherwise reach values no run has (or could have).
    """
    stats = _scipy_stats()
    ok = ~np.isnan(m)
    n = ok.sum(axis=0)
    have = n > 0
    mean, median = np.full(m.shape[1], np.nan), np.full(m.shape[1], np.nan)
    lo_data, hi_data = np.full(m.shape[1], np.nan), np.full(m.shape[1], np.nan)
    mean[have] = np.nanmean(m[:, have], axis=0)
    median[have] = np.nanmedian(m[:, have], axis=0)
    lo_data[have], hi_data[have] = np.nanmin(m[:, have], axis=0), np.nanmax(m[:, have], axis=0)
    sd = np.zeros(m.shape[1])
    many = n > 1
    sd[many] = np.nanstd(m[:, many], axis=0, ddof=1)
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    srt = np.sort(m, axis=0)
    k = m.shape[0]
    lo = int(max(0, np.floor(k / 2 - 1.96 * np.sqrt(k) / 2)))
    hi = int(min(k - 1, np.ceil(k / 2 + 1.96 * np.sqrt(k) / 2)))
    return {
        "mean": mean,
        "mean_lo": np.clip(mean - half, lo_data, hi_data),
        "mean_hi": np.clip(mean + half, lo_data, hi_data),
        "median": median,
        "median_lo": np.clip(srt[lo], lo_data, hi_data),
        "median_hi": np.clip(srt[hi], lo_data, hi_data),
    }


def _ci95(v: np.ndarray) -> float:
    """Half-width of the 95 % t-interval of the mean; exactly 0 when the runs agree."""
    if len(v) < 2:
        return float("nan")
    if np.ptp(v) == 0:
        return 0.0
    return float(_scipy_stats().t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def _finals(df, facts: dict):
    """One row per (benchmark, algorithm, seed): the score a run ends with.

    Single objective: the best value found. Several: the hypervolume of every evaluated
    point at the benchmark's target fidelity, and its IGD, against the true front.
    """
    import pandas as pd

    rows = []
    for (bench, alg, seed), run in df.groupby(["benchmark", "algorithm", "seed"], sort=False):
        run = run.sort_values("trial")
        front = _front(facts, bench)
        row = {"benchmark": bench, "algorithm": alg, "seed": seed}
        if "reported" in run:  # what the run reports of its incumbent (see nasdb.protocol)
            row.update(reported_metric=run["reported_metric"].iloc[-1],
                       reported=run["reported"].iloc[-1])  # fmt: skip
        if front is None:
            metric = run["metric"].iloc[0].split(",")[0]
            row.update(measure=f"best {metric}", score=run["best"].iloc[-1],
                       direction=run["direction"].iloc[0],
                       optimum=facts.get(bench, {}).get("optimum", np.nan))  # fmt: skip
        else:
            target = facts[bench].get("fidelity")
            at = run[run["fidelity"].fillna(-1) == (-1 if target is None else target)]
            vals = _values(at)
            row.update(measure="hypervolume", score=front.hv(vals) if len(vals) else 0.0,
                       direction="max", optimum=front.best_hv,
                       igd=front.igd(vals) if len(vals) else np.nan)  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def summary(table):
    """Final table (pandas): one row per (benchmark, algorithm), ordered by benchmark and
    then rank. ``table`` is a runs table (Arrow, with the facts :mod:`nasdb.pareto` stored,
    or pandas)."""
    import pandas as pd

    stats = _scipy_stats()
    df, facts = _frame(table)
    finals = _finals(df, facts)
    predicted = incumbent_predicted(df)
    rows = []
    for bench, per_bench in finals.groupby("benchmark", sort=True):
        sign = 1.0 if per_bench["direction"].iloc[0] == "max" else -1.0
        wide = per_bench.pivot(index="seed", columns="algorithm", values="score")
        ranks = (-sign * wide).rank(axis=1, method="average")
        base = wide[BASELINE] if BASELINE in wide else None
        for alg in per_bench["algorithm"].unique():
            v = wide[alg].dropna().to_numpy()
            mine = per_bench[per_bench["algorithm"] == alg]
            row = {
                "benchmark": bench,
                "algorithm": alg,
                "measure": mine["measure"].iloc[0],
                "seeds": len(v),
                "mean": float(v.mean()),
                "ci95": _ci95(v),
                "median": float(np.median(v)),
                "optimum": float(mine["optimum"].iloc[0]),
                "mean_rank": float(ranks[alg].mean()),
            }
            if "igd" in mine and mine["igd"].notna().any():
                row["igd"] = float(mine["igd"].mean())
            if predicted is not None:
                row["predicted_incumbents"] = int(predicted.get((bench, alg), 0))
            row.update(_reported(per_bench[per_bench["algorithm"] == alg], stats))
            if base is not None and alg != BASELINE:
                b = base.to_numpy()
                row["improvement_over_rs_pct"] = (
                    100 * sign * (v.mean() - b.mean()) / abs(b.mean()) if b.mean() else np.nan
                )
                diff = wide[alg].to_numpy() - b
                if np.all(diff == 0):
                    row["wilcoxon_p"] = 1.0
                else:
                    row["wilcoxon_p"] = float(
                        stats.wilcoxon(wide[alg], base, zero_method="zsplit").pvalue
                    )
            rows.append(row)
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["benchmark", "mean_rank", "algorithm"], kind="stable")
    return out.reset_index(drop=True)


def incumbent_predicted(table):
    """Per (benchmark, algorithm): how many seeds' final incumbent a surrogate predicted
    (``runs.predicted``), or None when no trial was predicted."""
    if "predicted" not in table or not table["predicted"].fillna(False).any():
        return None
    keys = ["benchmark", "algorithm", "seed"]
    t = table.sort_values("trial")
    final = t.groupby(keys, sort=False)["best"].transform("last")
    incumbents = t[t["value"] == final].groupby(keys, sort=False).first()
    return incumbents["predicted"].fillna(False).groupby(level=[0, 1]).sum()


def _reported(finals, stats) -> dict:
    """Mean +- 95 % CI of what the runs report of their incumbent (e.g. the test accuracy
    of the cell chosen by validation accuracy), where they report something."""
    if "reported" not in finals or finals["reported"].isna().all():
        return {}
    v = finals["reported"].dropna().to_numpy()
    n = len(v)
    half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    return {
        "reported_metric": finals["reported_metric"].iloc[0],
        "reported_mean": float(v.mean()),
        "reported_ci95": half,
    }


def average_ranks(summary_df):
    """Mean rank of each algorithm over benchmarks and seeds (1 = best)."""
    return summary_df.groupby("algorithm")["mean_rank"].mean().sort_values().rename("average_rank")


_COLUMNS = ("benchmark", "algorithm", "measure", "seeds", "mean", "ci95", "median", "optimum",
            "igd", "mean_rank", "reported_metric", "reported_mean", "reported_ci95",
            "improvement_over_rs_pct", "wilcoxon_p", "predicted_incumbents")  # fmt: skip


def _number(column: str, v) -> str:
    """A value as a reader wants it: no float noise, no more digits than it has."""
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    if not isinstance(v, (float, np.floating)):
        return str(v)
    v = float(v)
    if column in ("mean_rank", "improvement_over_rs_pct", "average_rank"):
        return f"{v:.2f}"
    if column == "wilcoxon_p":
        return f"{v:.3g}" if v >= 1e-4 else f"{v:.1e}"
    if abs(v) < 1e-9:
        return "0"
    return f"{v:.4g}" if column in ("ci95", "igd") else f"{v:.6g}"


def text(summary_df) -> str:
    from nasdb.output import table as fmt

    cols = [c for c in _COLUMNS if c in summary_df]
    rows = [tuple(_number(c, v) for c, v in zip(cols, r, strict=True))
            for r in summary_df[cols].itertuples(index=False)]  # fmt: skip
    ranks = average_ranks(summary_df)
    out = fmt(cols, rows)
    out += fmt(["algorithm", "average_rank"],
               [(a, _number("average_rank", r)) for a, r in ranks.items()])  # fmt: skip
    return out


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise NasdbError("plots need matplotlib: pip install 'nasdb[report]'") from None
    return plt


def _stem(prefix: str, bench: str) -> str:
    return prefix + "".join(c if c.isalnum() else "_" for c in bench)


def _save(fig, outdir: Path, stem: str, formats) -> list[Path]:
    written = []
    for ext in formats:
        path = outdir / f"{stem}.{ext}"
        fig.savefig(path, dpi=120)
        written.append(path)
    return written


def plot(table, outdir: Path, x: str = "trials", y: str = "regret",
         formats=("png", "svg")) -> list[Path]:  # fmt: skip
    """One figure of anytime curves per benchmark, and a front plot per multi-objective one.

    ``y="regret"`` (default): distance to the table's optimum on a log axis (missing
    hypervolume for several objectives); ``y="best"``: the best value so far.
    """
    plt = _pyplot()
    df, facts = _frame(table)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for bench in sorted(df["benchmark"].unique()):
        fig = curve_figure(df, bench, facts, x, y)
        written += _save(fig, outdir, _stem("curves_", bench), formats)
        plt.close(fig)
        if _front(facts, bench) is not None:
            fig = front_figure(df, bench, facts)
            written += _save(fig, outdir, _stem("front_", bench), formats)
            plt.close(fig)
    return written


def curve_figure(df, bench: str, facts: dict, x: str = "trials", y: str = "regret"):
    """The anytime curves of every algorithm on one benchmark (a matplotlib Figure)."""
    plt = _pyplot()
    sub = df[df["benchmark"] == bench]
    multi = _front(facts, bench) is not None
    log = y == "regret" and (multi or bench in facts)
    grid = None
    if x == "time":
        t = sub["time"].to_numpy()
        grid = np.geomspace(max(t.min(), 1e-9), t.max(), 200)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    curves = []
    for alg in sorted(sub["algorithm"].unique()):
        m, _, xs = matrix(sub, bench, alg, facts, y if log else "best", x, grid)
        curves.append((alg, xs, bands(m)))
    floor = _floor([b for _, _, b in curves]) if log else None
    for alg, xs, b in curves:
        shown = {k: np.maximum(v, floor) if log else v for k, v in b.items()}
        (line,) = ax.plot(xs, shown["mean"], label=f"{alg} mean")
        colour = line.get_color()
        ax.fill_between(xs, shown["mean_lo"], shown["mean_hi"], color=colour, alpha=0.2)
        ax.plot(xs, shown["median"], "--", color=colour, label=f"{alg} median")
        ax.fill_between(xs, shown["median_lo"], shown["median_hi"], color=colour, alpha=0.08)
    ax.set_xscale("log")
    ax.set_xlabel("evaluations" if x == "trials" else "simulated seconds")
    metric = sub["metric"].iloc[0].split(",")[0]
    if log:
        ax.set_yscale("log")
        what = "missing hypervolume" if multi else f"regret in {metric}"
        ax.set_ylabel(f"{what} (0 at the bottom)")
    else:
        ax.set_ylabel(f"best {metric} so far")
    ax.set_title(bench, fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _floor(all_bands: list[dict]) -> float:
    """Where a log axis puts 0: a decade below the smallest positive value shown."""
    pos = np.concatenate([v[v > 0] for b in all_bands for v in b.values() if np.any(v > 0)]
                         or [np.array([1.0])])  # fmt: skip
    return float(pos.min()) / 10


def front_figure(df, bench: str, facts: dict):
    """The true front and, per algorithm, what its median-hypervolume seed found."""
    plt = _pyplot()
    sub = df[df["benchmark"] == bench]
    front = _front(facts, bench)
    metrics = facts[bench]["metrics"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    order = np.argsort(front.points[:, 1])
    ax.plot(front.points[order, 1], front.points[order, 0], "ko-", lw=0.8, ms=3,
            label=f"true front ({len(front.points)} points)")  # fmt: skip
    for alg in sorted(sub["algorithm"].unique()):
        _, runs = _runs(sub, bench, alg)
        found = [_values(r) for r in runs]
        hvs = np.array([front.hv(v) for v in found])
        mid = found[int(np.argsort(hvs)[len(hvs) // 2])]
        nd = -front.signs * pareto.non_dominated(-front.signs * mid)
        ax.scatter(nd[:, 1], nd[:, 0], s=14, label=f"{alg} (median-HV seed)")
    ax.set_xlabel(metrics[1])
    ax.set_ylabel(metrics[0])
    ax.set_title(bench, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def write(table, outdir: Path, x: str = "trials", y: str = "regret") -> list[Path]:
    """Curves, final.csv and summary.txt in ``outdir``; ``table`` is a runs table."""
    outdir = Path(outdir)
    files = plot(table, outdir, x, y)
    s = summary(table)
    s.to_csv(outdir / "final.csv", index=False)
    (outdir / "summary.txt").write_text(text(s))
    return [*files, outdir / "final.csv", outdir / "summary.txt"]
