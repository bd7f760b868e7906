"""Reports on comparison runs: what "NAS evaluation is frustratingly hard" asks for.

Anytime curves of the best-so-far (mean and median with 95 % bands), a final table
(mean +- 95 % CI), relative improvement over random search, average ranks and paired
Wilcoxon tests against random search (runs are paired by seed). Needs the ``report``
extra (scipy, matplotlib).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasdb.errors import NasdbError

BASELINE = "rs"


def _scipy_stats():
    try:
        from scipy import stats
    except ImportError:
        raise NasdbError("reports need scipy: pip install 'nasdb[report]'") from None
    return stats


def best_matrix(table, benchmark: str, algorithm: str, x: str = "trials", grid=None):
    """(seeds, points) best-so-far, the seeds, and the x points.

    ``x="trials"``: one point per trial, shorter runs carried forward; ``x="time"``: the
    step function of simulated seconds sampled on ``grid``.
    """
    df = table[(table["benchmark"] == benchmark) & (table["algorithm"] == algorithm)]
    seeds = np.sort(df["seed"].unique())
    runs = [df[df["seed"] == s] for s in seeds]
    if x == "trials":
        n = max(len(r) for r in runs)
        out = np.full((len(runs), n), np.nan)
        for i, r in enumerate(runs):
            b = r["best"].to_numpy()
            out[i, : len(b)] = b
            out[i, len(b) :] = b[-1] if len(b) else np.nan
        return out, seeds, np.arange(1, n + 1)
    out = np.full((len(runs), len(grid)), np.nan)
    for i, r in enumerate(runs):
        t, b = r["time"].to_numpy(), r["best"].to_numpy()
        pos = np.searchsorted(t, grid, side="right") - 1
        out[i] = np.where(pos >= 0, b[np.clip(pos, 0, None)], np.nan)
    return out, seeds, grid


def bands(m: np.ndarray) -> dict[str, np.ndarray]:
    """Mean with its 95 % t-interval; median with its 95 % order-statistic interval."""
    stats = _scipy_stats()
    n = np.sum(~np.isnan(m), axis=0)
    mean = np.nanmean(m, axis=0)
    sd = np.nanstd(m, axis=0, ddof=1) if m.shape[0] > 1 else np.zeros(m.shape[1])
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    srt = np.sort(m, axis=0)
    k = m.shape[0]
    lo = int(max(0, np.floor(k / 2 - 1.96 * np.sqrt(k) / 2)))
    hi = int(min(k - 1, np.ceil(k / 2 + 1.96 * np.sqrt(k) / 2)))
    return {
        "mean": mean,
        "mean_lo": mean - half,
        "mean_hi": mean + half,
        "median": np.nanmedian(m, axis=0),
        "median_lo": srt[lo],
        "median_hi": srt[hi],
    }


def summary(table):
    """Final table (pandas): one row per (benchmark, algorithm)."""
    import pandas as pd

    stats = _scipy_stats()
    finals = (
        table.sort_values("trial").groupby(["benchmark", "algorithm", "seed"], sort=False).last()
    )
    keep = ["benchmark", "algorithm", "seed", "best", "direction"]
    keep += [c for c in ("reported_metric", "reported") if c in finals.columns]
    finals = finals.reset_index()[keep]
    rows = []
    for bench, per_bench in finals.groupby("benchmark", sort=False):
        sign = 1.0 if per_bench["direction"].iloc[0] == "max" else -1.0
        wide = per_bench.pivot(index="seed", columns="algorithm", values="best")
        ranks = (-sign * wide).rank(axis=1, method="average")
        base = wide[BASELINE] if BASELINE in wide else None
        for alg in per_bench["algorithm"].unique():
            v = wide[alg].dropna().to_numpy()
            n = len(v)
            half = (
                float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            )
            row = {
                "benchmark": bench,
                "algorithm": alg,
                "seeds": n,
                "mean": float(v.mean()),
                "ci95": half,
                "median": float(np.median(v)),
                "mean_rank": float(ranks[alg].mean()),
            }
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
                    row["wilcoxon_p"] = float(stats.wilcoxon(wide[alg], base).pvalue)
            rows.append(row)
    return pd.DataFrame(rows)


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


def text(summary_df) -> str:
    from nasdb.output import table as fmt

    cols = [
        c
        for c in (
            "benchmark",
            "algorithm",
            "seeds",
            "mean",
            "ci95",
            "median",
            "mean_rank",
            "reported_metric",
            "reported_mean",
            "reported_ci95",
            "improvement_over_rs_pct",
            "wilcoxon_p",
        )
        if c in summary_df
    ]
    rows = [tuple(None if _isnan(v) else v for v in r) for r in summary_df[cols].itertuples(False)]
    ranks = average_ranks(summary_df)
    out = fmt(cols, rows)
    out += fmt(["algorithm", "average_rank"], list(ranks.items()))
    return out


def _isnan(v) -> bool:
    return isinstance(v, float) and v != v


def plot(table, outdir: Path, x: str = "trials", formats=("png", "svg")) -> list[Path]:
    """One figure per benchmark: mean (solid) and median (dashed) with 95 % bands."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise NasdbError("plots need matplotlib: pip install 'nasdb[report]'") from None
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for bench in table["benchmark"].unique():
        sub = table[table["benchmark"] == bench]
        grid = None
        if x == "time":
            t = sub["time"].to_numpy()
            grid = np.geomspace(max(t.min(), 1e-9), t.max(), 200)
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for alg in sub["algorithm"].unique():
            m, _, xs = best_matrix(sub, bench, alg, x, grid)
            b = bands(m)
            (line,) = ax.plot(xs, b["mean"], label=f"{alg} mean")
            ax.fill_between(xs, b["mean_lo"], b["mean_hi"], color=line.get_color(), alpha=0.2)
            ax.plot(xs, b["median"], "--", color=line.get_color(), label=f"{alg} median")
            ax.fill_between(xs, b["median_lo"], b["median_hi"], color=line.get_color(), alpha=0.08)
        ax.set_xscale("log")
        ax.set_xlabel("evaluations" if x == "trials" else "simulated seconds")
        ax.set_ylabel(f"best {sub['metric'].iloc[0].split(',')[0]} so far")
        ax.set_title(bench, fontsize=9)
        ax.legend(fontsize=7, ncol=2)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        stem = "curves_" + "".join(c if c.isalnum() else "_" for c in bench)
        for ext in formats:
            path = outdir / f"{stem}.{ext}"
            fig.savefig(path, dpi=120)
            written.append(path)
        plt.close(fig)
    return written


def write(table, outdir: Path, x: str = "trials") -> list[Path]:
    """Curves, final.csv and summary.txt in ``outdir``; ``table`` is a runs table."""
    df = table.to_pandas() if hasattr(table, "to_pandas") else table
    outdir = Path(outdir)
    files = plot(df, outdir, x)
    s = summary(df)
    s.to_csv(outdir / "final.csv", index=False)
    (outdir / "summary.txt").write_text(text(s))
    return [*files, outdir / "final.csv", outdir / "summary.txt"]
