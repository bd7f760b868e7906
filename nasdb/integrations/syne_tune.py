"""A nasdb benchmark as a syne-tune blackbox, and a simulated syne-tune run as nasdb runs.

The blackbox's configuration space is the space's categorical encoding
(:mod:`nasdb.integrations.choices`), its fidelity is ``epoch`` over the benchmark's
fidelities (one value where it has one), and its objectives are the benchmark's metrics
plus ``elapsed_time``: the simulated seconds of training up to that fidelity from
nasdb's cost model (``bench.cost_of``). :func:`simulate` runs a scheduler on it with
syne-tune's simulated backend; :func:`to_runs` turns the tuner's results into ``runs``
rows named ``synetune:<scheduler>``.

A configuration that is no architecture of the benchmark (an NB101 graph whose input
does not reach its output, or a cell the benchmark's table holds no value for) fails as a
trial: no value, no simulated time.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from nasdb.errors import NasdbError
from nasdb.integrations import choices as choices_mod
from nasdb.integrations import require, runs_table

RESOURCE = "epoch"
ELAPSED = "elapsed_time"
SCHEDULERS = ("rs", "rea", "tpe", "asha", "bohb", "zero-shot", "bounding-box")
MULTI_FIDELITY = ("asha", "bohb")


def _syne_tune():
    return require("syne_tune", "synetune", "the syne-tune integration")


def objective_names(bench) -> list[str]:
    """The result keys of the benchmark's objectives (``metric`` or ``metric@device``)."""
    names = [o.metric for o in bench.objectives]
    if len(set(names)) < len(names):
        names = [o.metric + (f"@{o.device}" if o.device else "") for o in bench.objectives]
    return names


@cache
def _blackbox_class():
    _syne_tune()
    from syne_tune.blackbox_repository.blackbox import Blackbox
    from syne_tune.config_space import choice, ordinal

    class NasdbBlackbox(Blackbox):
        """Values and costs straight from the benchmark's columns, at its fidelities."""

        def __init__(self, bench, fidelities):
            self.bench = bench
            self.choices = choices_mod.of(bench)
            self.fidelities = list(fidelities)
            self._epochs = [1 if f is None else int(f) for f in self.fidelities]
            super().__init__(
                configuration_space={
                    n: choice(list(o))
                    for n, o in zip(self.choices.names, self.choices.options, strict=True)
                },
                fidelity_space={RESOURCE: ordinal(self._epochs)},
                objectives_names=[*objective_names(bench), ELAPSED],
            )

        @property
        def fidelity_values(self) -> np.ndarray:
            return np.array(self._epochs)

        def fidelity_of(self, epoch) -> int | None:
            """The benchmark fidelity of a reported ``epoch``."""
            return self.fidelities[self._epochs.index(int(epoch))]

        def _objective_function(self, configuration, fidelity=None, seed=None):
            index = self.choices.index(configuration)
            rows = np.array(
                [[*self.bench.values(index, f), self.bench.cost_of(index, f)]
                 for f in self.fidelities]  # fmt: skip
            )
            if fidelity is None:
                return rows  # (fidelities, objectives), as the simulated backend reads it
            row = rows[self._epochs.index(int(fidelity[RESOURCE]))]
            return dict(zip(self.objectives_names, row.tolist(), strict=True))

    return NasdbBlackbox


def blackbox(bench, multi_fidelity: bool = True):
    """``bench`` as a syne-tune :class:`~syne_tune.blackbox_repository.blackbox.Blackbox`:
    at all its fidelities, or at its target fidelity only (for single-fidelity schedulers,
    which otherwise take every lower-fidelity result as a finished evaluation)."""
    _syne_tune()  # before the cached class: says which extra to install
    fids = bench.fidelities if multi_fidelity else (bench.fidelity,)
    return _blackbox_class()(bench, fids)


@cache
def _backend_class():
    _syne_tune()
    from syne_tune.backend.trial_status import Status
    from syne_tune.blackbox_repository import UserBlackboxBackend

    class NasdbBackend(UserBlackboxBackend):
        """The simulated backend, where a configuration that is no architecture fails."""

        def _run_job_and_collect_results(self, trial_id, config=None):
            conf = config if config is not None else self._trial_dict[trial_id].config
            try:
                self.blackbox.choices.index(conf)
            except choices_mod.InvalidConfig:
                return Status.failed, []
            return super()._run_job_and_collect_results(trial_id, config)

    return NasdbBackend


def transfer_evaluations(db, bench, tasks=None, max_configs: int | None = None, seed: int = 0):
    """Other tasks' values of the benchmark's first metric, for syne-tune's
    transfer-learning schedulers: ``{task: TransferLearningTaskEvaluations}``.

    The sources are ``tasks``, or every task of the space on other data that has the
    metric at the benchmark's fidelity; only architectures every task holds are used,
    ``max_configs`` of them drawn at random when given.
    """
    _syne_tune()
    import pandas as pd
    from syne_tune.optimizer.schedulers.transfer_learning.transfer_learning_task_evaluation import (  # noqa: E501
        TransferLearningTaskEvaluations,
    )

    from nasdb.transfer import dataset_of

    metric = bench.metrics[0]
    device = bench.objectives[0].device
    others = tasks or [  # never the target's own data (cifar10-valid is CIFAR-10)
        t for t in db.tasks(bench.space_name) if dataset_of(t) != dataset_of(bench.task)
    ]
    kwargs = {"device": device} if device else {}
    sources = {}
    for task in others:
        try:
            sources[task] = db.benchmark(bench.space_name, task, metric, fidelity=bench.fidelity,
                                         **kwargs)  # fmt: skip
        except NasdbError:
            if tasks:
                raise
            continue  # a task without this metric is no source
    if not sources:
        raise NasdbError(f"{bench.describe()}: no other task of {bench.space_name} has {metric}")
    common = bench.valid_mask.copy()
    for source in sources.values():
        common &= source.valid_mask
    index = np.flatnonzero(common)
    if max_configs is not None and max_configs < len(index):
        index = np.sort(np.random.default_rng(seed).choice(index, max_configs, replace=False))
    bb = blackbox(bench, multi_fidelity=False)
    configs = pd.DataFrame([bb.choices.config(i) for i in index])
    name = objective_names(bench)[0]
    return {
        task: TransferLearningTaskEvaluations(
            configuration_space=bb.configuration_space,
            hyperparameters=configs,
            objectives_names=[name],
            objectives_evaluations=source.query(index).reshape(-1, 1, 1, 1),
        )
        for task, source in sources.items()
    }


def scheduler(name: str, bench, seed: int = 0, transfer=None, **kwargs):
    """A syne-tune scheduler by short name (see :data:`SCHEDULERS`) for ``bench``'s
    blackbox; ``kwargs`` go to its constructor. ASHA and BOHB run from the benchmark's
    lowest fidelity to its highest; where the fidelities are a geometric series (NB201's
    12 and 200, NB101's 4, 12, 36, 108) its ratio is the reduction factor, so the rungs
    are the fidelities, otherwise syne-tune's default of 3."""
    if name not in SCHEDULERS:
        have = ", ".join(SCHEDULERS)
        raise NasdbError(f"unknown syne-tune scheduler {name!r}; available: {have}")
    _syne_tune()
    from syne_tune.optimizer import baselines
    from syne_tune.optimizer.schedulers.single_objective_scheduler import (
        SingleObjectiveScheduler,
    )
    from syne_tune.optimizer.schedulers.transfer_learning.bounding_box import BoundingBox
    from syne_tune.optimizer.schedulers.transfer_learning.zero_shot import ZeroShotTransfer

    bb = blackbox(bench, multi_fidelity=name in MULTI_FIDELITY)
    space = bb.configuration_space
    metrics = objective_names(bench)
    minimize = bench.directions[0] == "min"
    if len(set(bench.directions)) > 1 and name != "rs":
        raise NasdbError(
            f"syne-tune scheduler {name!r} takes one direction for all objectives; "
            f"{bench.describe()} mixes {', '.join(bench.directions)} (use rs)"
        )
    common = dict(do_minimize=minimize, random_seed=seed)
    if name == "rs" and len(metrics) > 1:  # baselines.RandomSearch takes one objective
        from syne_tune.optimizer.schedulers.searchers.random_searcher import (
            MultiObjectiveRandomSearcher,
        )
        from syne_tune.optimizer.schedulers.single_fidelity_scheduler import (
            SingleFidelityScheduler,
        )

        searcher = MultiObjectiveRandomSearcher(space, random_seed=seed, **kwargs)
        return SingleFidelityScheduler(space, metrics, searcher=searcher, **common)
    if name == "rs":
        return baselines.RandomSearch(space, metrics=metrics, **common, **kwargs)
    if len(metrics) > 1:
        raise NasdbError(f"syne-tune scheduler {name!r} optimises one objective; use rs")
    metric = metrics[0]
    if name in MULTI_FIDELITY:
        epochs = bb.fidelity_values
        if len(epochs) < 2:
            raise NasdbError(f"{name} needs several fidelities; {bench.describe()} has one")
        ratios = epochs[1:] / epochs[:-1]
        rf = ratios[0] if np.allclose(ratios, ratios[0]) else 3.0  # syne-tune's default
        mf = dict(time_attr=RESOURCE, max_t=int(epochs[-1]), grace_period=int(epochs[0]),
                  reduction_factor=rf)  # fmt: skip
        cls = baselines.ASHA if name == "asha" else baselines.BOHB
        return cls(space, metric, **common, **(mf | kwargs))
    if name == "rea":
        return baselines.REA(space, metric, **common, **kwargs)
    if name == "tpe":
        return baselines.TPE(space, metric, **common, **kwargs)
    if transfer is None:
        raise NasdbError(f"{name} needs transfer=transfer_evaluations(db, bench)")
    if name == "zero-shot":
        return _zero_shot_class(ZeroShotTransfer)(space, metric, transfer, **common, **kwargs)
    return BoundingBox(
        lambda box, m, minimise, s: SingleObjectiveScheduler(box, m, minimise, random_seed=s),
        space, metric, transfer, **common, **kwargs,
    )  # fmt: skip


@cache
def _zero_shot_class(base):
    from syne_tune.optimizer.scheduler import TrialSuggestion

    class ZeroShot(base):
        """syne-tune 0.16's ZeroShotTransfer ranks the source tasks' configurations in
        ``get_config``, but its ``suggest`` is the default random searcher's, so the
        ranking would go unused; this one suggests by it."""

        def suggest(self):
            config = self.get_config()
            return None if config is None else TrialSuggestion.start_suggestion(config)

    return ZeroShot


def simulate(bench, sched, *, trials: int | None = None, seconds: float | None = None,
             seed: int = 0, n_workers: int = 1, transfer=None, folder=None,
             poll_seconds: float = 60.0, verbose: bool = False):  # fmt: skip
    """Run a scheduler (a :data:`SCHEDULERS` name, or a scheduler built on
    ``blackbox(bench).configuration_space``) on ``bench`` with syne-tune's simulated
    backend until ``trials`` trials have started or ``seconds`` simulated seconds have
    passed; returns the tuner's results dataframe for :func:`to_runs`.

    The simulated tuner looks at its workers every ``poll_seconds`` of simulated time
    (syne-tune's default of 5 s loops ~500 times per NB201 training of ~2,700 s: 73 ms of
    wall time per random-search trial, 17 ms at 60 s, ``benchmarks/bench_integrations.py``);
    a trial that ends between two looks waits for the next in syne-tune's clock, which
    ``seconds`` counts, while the runs' cost and time come from nasdb's cost model.

    syne-tune writes its experiment files under ``folder`` (default: a temporary
    directory, removed afterwards) and prints its progress with ``verbose``. Its random
    search draws from numpy's global generator, which is seeded with ``seed`` here.
    """
    from nasdb import validate

    if (trials is None) == (seconds is None):
        raise NasdbError("simulate: give trials or seconds")
    if trials is not None:
        validate.integer(trials, "trials", 1)
    elif not seconds > 0:
        raise NasdbError(f"seconds must be positive; got {seconds!r}")
    validate.integer(n_workers, "n_workers", 1)
    _syne_tune()
    import contextlib
    import io
    import os
    import tempfile

    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback

    if isinstance(sched, str):
        multi = sched in MULTI_FIDELITY
        sched = scheduler(sched, bench, seed, transfer)
    else:
        multi = len(bench.fidelities) > 1
    bb = blackbox(bench, multi_fidelity=multi)
    backend = _backend_class()(blackbox=bb, elapsed_time_attr=ELAPSED,
                               tuner_sleep_time=poll_seconds)  # fmt: skip
    # syne-tune stops once *more than* the given number of trials started
    started = None if trials is None else trials - 1
    stop = StoppingCriterion(max_num_trials_started=started, max_wallclock_time=seconds)
    callback = SimulatorCallback()
    np.random.seed(seed)
    with tempfile.TemporaryDirectory(prefix="nasdb-synetune-") as tmp:
        before = os.environ.get("SYNETUNE_FOLDER")
        os.environ["SYNETUNE_FOLDER"] = str(folder or tmp)
        try:
            tuner = Tuner(
                trial_backend=backend, scheduler=sched, stop_criterion=stop,
                n_workers=n_workers, sleep_time=0, callbacks=[callback],
                tuner_name="nasdb", save_tuner=False, print_update_interval=1e9,
                results_update_interval=1e9, wait_trial_completion_when_stopping=True,
                max_failures=1 << 30,
            )  # fmt: skip
            quiet = contextlib.redirect_stdout(io.StringIO())
            with contextlib.nullcontext() if verbose else quiet:
                tuner.run()
        finally:
            if before is None:
                os.environ.pop("SYNETUNE_FOLDER", None)
            else:
                os.environ["SYNETUNE_FOLDER"] = before
    return callback.dataframe()


def to_runs(bench, results, algorithm: str, seed: int = 0, run_id: str | None = None):
    """A finished syne-tune run's results (one row per reported result, as
    ``StoreResultsCallback.dataframe()`` or ``load_experiment(...).results`` give them)
    as a ``runs`` table with algorithm ``synetune:<algorithm>``.

    Each result is one row: the architecture its configuration names, its epoch as
    fidelity, the objectives syne-tune saw, and as cost the simulated seconds from the
    trial's previous result to this one (a resumed trial continues from its checkpoint).
    """
    bb = blackbox(bench)
    names = objective_names(bench)
    have = set(results.columns) if len(results) else set()
    needed = {*(f"config_{n}" for n in bb.choices.names), *names, RESOURCE, "trial_id"}
    if not needed <= have:
        missing = sorted(needed - have)
        raise NasdbError(
            f"to_runs: the results lack {', '.join(missing)}; expected the results of a "
            f"syne-tune run on {bench.describe()}"
        )
    if "st_tuner_time" in have:
        results = results.sort_values("st_tuner_time", kind="stable")
    arch, fids, cost = [], [], []
    last: dict[int, float] = {}
    for row in results.itertuples(index=False):
        config = {n: getattr(row, f"config_{n}") for n in bb.choices.names}
        a = bb.choices.index(config)
        f = bb.fidelity_of(getattr(row, RESOURCE))
        spent = bench.cost_of(a, f)
        trial = int(row.trial_id)
        cost.append(max(spent - last.get(trial, 0.0), 0.0))
        last[trial] = spent
        arch.append(a)
        fids.append(f)
    values = results[names].to_numpy(dtype=np.float64)
    return runs_table(bench, f"synetune:{algorithm}", seed, arch, fids, values, cost, run_id)
