"""Other tuning libraries on nasdb benchmarks: syne-tune and Optuna.

:mod:`nasdb.integrations.syne_tune` exports a benchmark as a syne-tune blackbox and
:mod:`nasdb.integrations.optuna` as an Optuna objective; each turns a finished run into
rows of the ``runs`` schema, and :func:`store` commits them through the catalog's
run-storing path, so they are reported next to nasdb's own algorithms. Both libraries are
optional extras, imported only when an integration is used.
"""

from __future__ import annotations

import importlib

from nasdb.errors import NasdbError


def require(module: str, extra: str, what: str):
    """Import ``module``, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise NasdbError(
            f"{what} needs the {module} package, which is not installed: "
            f"pip install 'nasdb[{extra}]'"
        ) from None


def runs_table(bench, algorithm: str, seed: int, arch, fidelity, values, cost,
               run_id: str | None = None):  # fmt: skip
    """Evaluations another library made (in the order it made them) as a ``runs`` table.

    ``fidelity`` is per evaluation (None where the benchmark has none), ``values`` the
    raw objectives it saw, ``cost`` the simulated seconds each evaluation took; best so
    far, the incumbent's reported metric and the cost model come from the same code as
    nasdb's own runs (:func:`nasdb.runner.to_table`).
    """
    from nasdb import runner

    fid = [-1 if f is None else int(f) for f in fidelity]
    traj = runner.Trajectory.of(bench, arch, fid, values, cost)
    return runner.to_table([(algorithm, bench, seed, traj)], run_id or runner.new_run_id())


def store(db_or_home, *runs, run_id: str | None = None) -> str:
    """Commit ``runs`` as one stored run and return its id, for ``nasdb report RUN_ID``.

    Each item is a ``runs`` table (from an integration's converter or
    :func:`nasdb.runner.compare`) or the id of a run already stored, so a syne-tune or
    Optuna run can be reported next to nasdb's algorithms on the same benchmark. The run
    is written by :meth:`nasdb.catalog.Catalog.write_run`, as ``nasdb compare`` writes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nasdb import pareto, runner
    from nasdb.db import Database, connect
    from nasdb.schema import RUNS
    from nasdb.validate import run_id_of

    if not runs:
        raise NasdbError("store: no runs given")
    db = db_or_home if isinstance(db_or_home, Database) else connect(db_or_home)
    run_id = run_id_of(run_id) if run_id is not None else runner.new_run_id()
    tables, facts = [], {}
    for item in runs:
        if isinstance(item, str):
            path = db.generation.path("runs", run_id_of(item))
            if path is None:
                raise NasdbError(f"store: no stored run {item!r} in {db.home}")
            item = pq.read_table(path)
        if not isinstance(item, pa.Table) or not set(RUNS.names) <= set(item.column_names):
            raise NasdbError(
                "store: each run must be a runs table (an integration's to_runs, "
                "runner.compare) or a stored run id"
            )
        facts.update(pareto.facts(item))
        table = item.select(RUNS.names).cast(RUNS)
        tables.append(table.set_column(0, "run_id", pa.array([run_id] * len(table))))
    db.catalog.write_run(pareto.with_facts(pa.concat_tables(tables), facts), run_id)
    db.refresh()
    return run_id

