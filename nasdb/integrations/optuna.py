"""A nasdb benchmark as an Optuna objective, and a finished study as nasdb runs.

The search space is the space's categorical encoding (:mod:`nasdb.integrations.choices`),
one ``trial.suggest_categorical`` per choice; the objective returns the benchmark's
metric at its target fidelity (a tuple of all metrics when it has several), and
:func:`create_study` sets the directions from the benchmark.

A configuration that names no architecture of the benchmark (an NB101 graph whose input
does not reach its output, or with more than 9 edges after pruning; a cell the table
holds no value for) raises ``optuna.TrialPruned``: there is no value to return, and
nothing was trained. A made-up
value (0 % accuracy, say) would enter the sampler's model as a measurement and the runs
as an evaluation; a pruned trial is neither. Optuna's samplers still see it as a trial
that did not complete (TPE ranks it below the completed ones), and :func:`to_runs` leaves
it out.
"""

from __future__ import annotations

from nasdb.errors import NasdbError
from nasdb.integrations import choices as choices_mod
from nasdb.integrations import require, runs_table

# Sampler class -> the name its runs get (``optuna:<name>``).
SAMPLER_NAMES = {
    "TPESampler": "tpe",
    "RandomSampler": "random",
    "NSGAIISampler": "nsga2",
    "NSGAIIISampler": "nsga3",
    "CmaEsSampler": "cmaes",
    "GPSampler": "gp",
    "QMCSampler": "qmc",
    "BruteForceSampler": "bruteforce",
    "GridSampler": "grid",
}


def _optuna():
    return require("optuna", "optuna", "the Optuna integration")


def directions(bench) -> list[str]:
    """Optuna's direction per objective."""
    return ["maximize" if d == "max" else "minimize" for d in bench.directions]


class Objective:
    """``study.optimize(Objective(bench), n_trials=...)``: one architecture per trial."""

    def __init__(self, bench):
        _optuna()
        self.bench = bench
        self.choices = choices_mod.of(bench)

    def suggest(self, trial) -> dict:
        """The configuration of one trial: a categorical suggestion per choice."""
        return {
            name: trial.suggest_categorical(name, list(options))
            for name, options in zip(self.choices.names, self.choices.options, strict=True)
        }

    def __call__(self, trial):
        import optuna

        config = self.suggest(trial)
        try:
            index = self.choices.index(config)
        except choices_mod.InvalidConfig as exc:
            trial.set_user_attr("invalid", str(exc))
            raise optuna.TrialPruned(str(exc)) from None
        trial.set_user_attr("arch_index", index)
        values = self.bench.values(index)
        if self.bench.n_objectives == 1:
            return float(values[0])
        return tuple(float(v) for v in values)


def create_study(bench, sampler=None, seed: int = 0, **kwargs):
    """An Optuna study with the benchmark's directions; ``sampler`` defaults to TPE
    (NSGA-II for several objectives), seeded with ``seed``."""
    optuna = _optuna()
    if sampler is None:
        multi = bench.n_objectives > 1
        sampler = (optuna.samplers.NSGAIISampler if multi else optuna.samplers.TPESampler)(
            seed=seed
        )
    return optuna.create_study(directions=directions(bench), sampler=sampler, **kwargs)


def to_runs(bench, study, algorithm: str | None = None, seed: int = 0,
            run_id: str | None = None):  # fmt: skip
    """A finished study as a ``runs`` table: one row per completed trial, in trial order,
    with algorithm ``optuna:<sampler>`` (``algorithm`` overrides the sampler's name) and
    the cost of each evaluation from nasdb's cost model at the target fidelity."""
    optuna = _optuna()
    if not isinstance(study, optuna.Study):
        raise NasdbError(f"to_runs: expected an optuna.Study, got {type(study).__name__}")
    if len(study.directions) != bench.n_objectives:
        raise NasdbError(
            f"to_runs: the study has {len(study.directions)} objectives, "
            f"{bench.describe()} {bench.n_objectives}"
        )
    if algorithm is None:
        kind = type(study.sampler).__name__
        algorithm = SAMPLER_NAMES.get(kind, kind.removesuffix("Sampler").lower())
    choices = choices_mod.of(bench)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    arch = [choices.index(t.params) for t in done]
    values = [t.values for t in done]
    cost = [bench.cost_of(a) for a in arch]
    fids = [bench.fidelity] * len(arch)
    return runs_table(bench, f"optuna:{algorithm}", seed, arch, fids, values, cost, run_id)
