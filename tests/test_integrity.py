"""Catalog integrity with real processes: kill -9 at every write step, concurrent writers,
readers during writes, a damaged file failing only its own answers, verify and repair.

A write step is a rename that puts a finished file in place: every writer writes to a
temporary name first, so killing the process just before each rename (and letting the
last run finish) visits every state a crash can leave. The harness counts renames, so
the same test runs against any implementation of the catalog.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ingest_ok, run_cli

from nasdb import connect
from nasdb.catalog import Catalog
from nasdb.errors import NasdbError

ARCH = "11111221"  # an NB-Macro network: 92.3033 % mean test accuracy upstream
MACRO_FILE = "nas-bench-macro_cifar10.json"

# Runs the CLI, killing itself (SIGKILL) just before its KILL_AT-th os.replace; it writes
# the number of renames it made to COUNT_FILE when it ends on its own.
KILLER = r"""
import os, signal, sys
kill_at, count = int(os.environ.get("KILL_AT", "0")), [0]
real = os.replace
def replace(*args, **kwargs):
    count[0] += 1
    if count[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
os.replace = replace
import atexit
if os.environ.get("COUNT_FILE"):
    atexit.register(lambda: open(os.environ["COUNT_FILE"], "w").write(str(count[0])))
from nasdb.cli import main
main(sys.argv[1:], prog_name="nasdb")
"""


def cli(*args: str, kill_at: int = 0, count: Path | None = None, **popen):
    env = {**os.environ, "KILL_AT": str(kill_at)}
    if count is not None:
        env["COUNT_FILE"] = str(count)
    cmd = [sys.executable, "-c", KILLER, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, **popen)


@pytest.fixture(scope="module")
def plus_root(tmp_path_factory, shared_data) -> Path:
    """A data root whose NB-Macro accuracies are all 1 point higher, and mini-NB201."""
    root = tmp_path_factory.mktemp("plus")
    bench = json.loads((shared_data / "nasbench_macro" / MACRO_FILE).read_text())
    for entry in bench.values():
        entry["test_acc"] = [a + 1 for a in entry["test_acc"]]
        entry["mean_acc"] += 1
    (root / "nasbench_macro").mkdir()
    (root / "nasbench_macro" / MACRO_FILE).write_text(json.dumps(bench))
    (root / "nb201").mkdir()
    (root / "nb201" / "mini_nb201").symlink_to(shared_data / "nb201" / "mini_nb201")
    return root


@pytest.fixture(scope="module")
def macro_home(tmp_path_factory, shared_data) -> Path:
    """A catalog holding NB-Macro alone."""
    return ingest_ok("nbmacro", shared_data, tmp_path_factory.mktemp("macro") / "home")


def copy_of(home: Path, tmp_path: Path, name: str = "home") -> Path:
    target = tmp_path / name
    shutil.copytree(home, target, symlinks=True)
    return target


def answers(home: Path) -> tuple:
    """What one reader sees; its lookup and its wide view must agree with each other."""
    db = connect(home)
    looked = round(float(db.lookup("nbmacro", [ARCH], metric="test_accuracy")[0]), 4)
    (wide,) = db.sql(f"SELECT test_accuracy FROM nbmacro WHERE arch_id = '{ARCH}'").fetchall()[0]
    assert looked == round(wide, 4), "the wide view and lookup disagree"
    names = [r[0] for r in db.sources().fetchall()]
    mini = None
    if "nb201_mini" in names:
        mini = round(
            float(db.lookup("nb201", [6111], task="cifar10", metric="test_accuracy")[0]), 2
        )
    runs = db.sql("SELECT count(DISTINCT run_id), count(*) FROM runs").fetchall()[0]
    surrogates = db.sql("SELECT name, predictions FROM surrogates ORDER BY name").fetchall()
    return looked, names, mini, runs, surrogates


def verified(home: Path) -> str:
    result = run_cli("verify", "--home", str(home))
    assert result.exit_code == 0, result.output
    return result.output


def no_leftovers(home: Path) -> None:
    """Every file under the tables is named by the live generation or a retired one."""
    data = json.loads((home / "manifest.json").read_text())
    named = {e["path"] for e in data["entries"].values()} | {r["path"] for r in data["retired"]}
    for p in home.iterdir():
        if p.is_dir():
            for f in p.iterdir():
                assert str(f.relative_to(home)) in named, f
        else:
            assert not p.name.endswith(".tmp"), p


def crash_at_every_step(tmp_path: Path, base: Path, args: tuple[str, ...]) -> tuple:
    """Run ``nasdb ARGS`` on copies of ``base``, killed before each rename in turn; after
    each kill, the catalog verifies and answers as before or as after the write."""
    old = answers(base)
    done = copy_of(base, tmp_path, "done")
    count = tmp_path / "count"
    finished = cli(*args, "--home", str(done), count=count)
    assert finished.returncode == 0, finished.stderr
    new = answers(done)
    assert new != old
    steps = int(count.read_text())
    assert steps >= 3  # the files, the manifest, the DuckDB file
    for k in range(1, steps + 1):
        home = copy_of(base, tmp_path, f"crash{k}")
        killed = cli(*args, "--home", str(home), kill_at=k)
        assert killed.returncode == -9, (k, killed.stderr)
        assert answers(home) in (old, new), f"killed before rename {k} of {steps}"
    for k in range(1, steps + 1):
        verified(tmp_path / f"crash{k}")
    verified(done)
    # Killed before the manifest's rename, a writer leaves every new file behind; the
    # next write completes, and collects them.
    home = tmp_path / f"crash{steps - 1}"
    assert answers(home) == old
    again = cli(*args, "--home", str(home))
    assert again.returncode == 0, again.stderr
    assert answers(home) == new
    verified(home)
    no_leftovers(home)
    return old, new


# kill -9 at every write step ---------------------------------------------------------------
def test_ingest_of_two_sources_is_all_or_nothing_at_every_crash(tmp_path, macro_home, plus_root):
    # Re-ingesting NB-Macro with new values and adding mini-NB201 in one command: a crash
    # leaves both applied or neither, and the wide view never disagrees with lookup.
    old, new = crash_at_every_step(
        tmp_path, macro_home, ("ingest", "nbmacro", "nb201_mini", "--source", str(plus_root))
    )
    assert old[:3] == (92.3033, ["nbmacro"], None)
    assert new[:3] == (93.3033, ["nb201_mini", "nbmacro"], 88.79)


def test_stored_run_is_all_or_nothing_at_every_crash(tmp_path, macro_home):
    old, new = crash_at_every_step(
        tmp_path, macro_home, ("search", "nbmacro", "--budget", "20", "--seed", "3")
    )
    assert (old[3], new[3]) == ((0, 0), (1, 20))


def test_surrogate_fit_is_all_or_nothing_at_every_crash(tmp_path, macro_home):
    fit = ("surrogate", "fit", "nbmacro", "--train-size", "50", "--members", "1")
    old, new = crash_at_every_step(
        tmp_path, macro_home, (*fit, "--threads", "1", "--max-test", "200", "--name", "tiny")
    )
    assert (old[4], new[4]) == ([], [("tiny", 6561)])


# one writer at a time ------------------------------------------------------------------------
HOLD = r"""
import sys, time
from pathlib import Path
from nasdb import lock
with lock.writer(Path(sys.argv[1])):
    print("held", flush=True)
    while not Path(sys.argv[2]).exists():
        time.sleep(0.02)
"""


def test_writers_wait_for_the_lock_and_readers_do_not(tmp_path, macro_home):
    home = copy_of(macro_home, tmp_path)
    release = tmp_path / "release"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home), str(release)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        search = ("search", "nbmacro", "--budget", "10", "--home", str(home))
        impatient = subprocess.run(
            [sys.executable, "-m", "nasdb", *search],
            env={**os.environ, "NASDB_LOCK_TIMEOUT": "0.3"},
            capture_output=True,
            text=True,
        )
        assert impatient.returncode == 2, impatient.stderr
        assert "another nasdb process is writing" in impatient.stderr
        waiting = subprocess.Popen(
            [sys.executable, "-m", "nasdb", *search], stdout=subprocess.PIPE, text=True
        )
        # A reader answers while the writer lock is held.
        listed = subprocess.run(
            [sys.executable, "-m", "nasdb", "sql", "SELECT count(*) FROM runs", "--home",
             str(home), "--format", "csv"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert listed.returncode == 0 and listed.stdout.splitlines()[1] == "0", listed
        time.sleep(0.5)
        assert waiting.poll() is None  # still waiting for the lock
        release.touch()
        assert waiting.wait(timeout=120) == 0
    finally:
        release.touch()
        holder.wait(timeout=30)
    assert answers(home)[3] == (1, 10)


READER = r"""
import sys, json
from nasdb import connect
seen = []
home, stop = sys.argv[1], sys.argv[2]
import os
while not os.path.exists(stop):
    db = connect(home)
    looked = float(db.lookup("nbmacro", ["11111221"], metric="test_accuracy")[0])
    (wide,) = db.sql("SELECT test_accuracy FROM nbmacro WHERE arch_id = '11111221'").fetchall()[0]
    runs = db.sql("SELECT count(DISTINCT run_id) FROM runs").fetchall()[0][0]
    names = sorted(db.generation.sources)
    assert round(looked, 4) == round(wide, 4), (looked, wide)
    assert runs == len(db.generation.stems("runs")), runs
    seen.append([db.generation.number, runs, names])
print(json.dumps(seen))
"""


def test_concurrent_writers_lose_nothing_and_readers_see_whole_generations(
    tmp_path, macro_home, plus_root
):
    home = copy_of(macro_home, tmp_path)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(home), str(stop)], stdout=subprocess.PIPE, text=True
    )
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nasdb",
                "search",
                "nbmacro",
                "--budget",
                "20",
                "--seed",
                str(seed),
                "--home",
                str(home),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for seed in range(3)
    ]
    writers.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nasdb",
                "ingest",
                "nb201_mini",
                "--source",
                str(plus_root),
                "--home",
                str(home),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
    )
    for w in writers:
        assert w.wait(timeout=300) == 0, w.stderr.read()
    stop.touch()
    out, _ = reader.communicate(timeout=120)
    assert reader.returncode == 0
    seen = json.loads(out)
    assert seen and all(runs <= 3 for _, runs, _ in seen)
    _, names, _, runs, _ = answers(home)
    assert names == ["nb201_mini", "nbmacro"] and runs == (3, 60)
    assert Catalog(home).current().number == Catalog(macro_home).current().number + 4
    verified(home)


# damaged files ---------------------------------------------------------------------------
def damage(path: Path) -> None:
    """Flip bytes in the middle: the size stays, the checksum and the data do not."""
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble_footer(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-60:-8] = bytes(52)
    path.write_bytes(bytes(data))


def the_file(home: Path, table: str, stem: str) -> Path:
    return next(p for p in Catalog(home).files(table) if p.name.split(".")[0] == stem)


@pytest.fixture(scope="module")
def two_home(macro_home, plus_root, tmp_path_factory) -> Path:
    """NB-Macro, mini-NB201 and one stored run on NB-Macro."""
    home = copy_of(macro_home, tmp_path_factory.mktemp("two"))
    ingest_ok("nb201_mini", plus_root, home)
    assert run_cli("search", "nbmacro", "--budget", "5", "--home", str(home)).exit_code == 0
    return home


def test_a_damaged_source_fails_only_its_own_answers(tmp_path, two_home, shared_data):
    home = copy_of(two_home, tmp_path)
    truncate(the_file(home, "sources", "nbmacro"))
    damage(the_file(home, "evaluations", "nbmacro"))
    listed = run_cli("list", "--home", str(home))
    assert listed.exit_code == 0 and "nbmacro" in listed.output and "nb201_mini" in listed.output
    db = connect(home)
    assert (
        round(float(db.lookup("nb201", [6111], task="cifar10", metric="test_accuracy")[0]), 2)
        == 88.79
    )
    searched = run_cli("search", "nb201", "cifar10", "--budget", "5", "--home", str(home))
    assert searched.exit_code == 0, searched.output  # searched, and its run stored
    with pytest.raises(NasdbError, match="nasdb ingest nbmacro --source DIR"):
        db.lookup("nbmacro", [ARCH], metric="test_accuracy")
    result = run_cli("verify", "--home", str(home))
    assert result.exit_code == 1
    assert "(source nbmacro)" in result.output and "nasdb ingest nbmacro" in result.output
    # The command verify names repairs it.
    ingest_ok("nbmacro", shared_data, home)
    verified(home)
    assert answers(home)[:4] == (92.3033, ["nb201_mini", "nbmacro"], 88.79, (2, 10))


def test_a_damaged_run_or_wide_table_leaves_other_sql_answering(tmp_path, two_home):
    home = copy_of(two_home, tmp_path)
    (run,) = Catalog(home).files("runs")
    garble_footer(run)  # same size, same magic: found when its view binds
    truncate(the_file(home, "wide", "nbmacro"))
    best = run_cli("sql", "SELECT max(test_accuracy) FROM nb201 WHERE task = 'cifar10'",
                   "--home", str(home), "--format", "csv")  # fmt: skip
    assert best.exit_code == 0 and best.stdout.splitlines()[1] == "89.16", best.output
    # The damaged wide table is computed from the evaluations it is derived from.
    wide = run_cli("sql", f"SELECT test_accuracy FROM nbmacro WHERE arch_id = '{ARCH}'",
                   "--home", str(home), "--format", "csv")  # fmt: skip
    assert wide.exit_code == 0 and wide.stdout.startswith("test_accuracy\n92.3033"), wide.output
    assert "wide/nbmacro" in wide.stderr and "fix: nasdb repair" in wide.stderr
    verify = run_cli("verify", "--home", str(home))
    assert verify.exit_code == 1 and verify.output.count("fix: nasdb repair") == 2, verify.output
    repaired = run_cli("repair", "--home", str(home))
    assert repaired.exit_code == 0, repaired.output
    assert (
        "dropped run" in repaired.output and "rebuilt the wide table of nbmacro" in repaired.output
    )
    verified(home)
    assert answers(home)[0] == 92.3033 and answers(home)[3] == (0, 0)


def test_ingest_repairs_a_damaged_architectures_table(tmp_path, two_home, shared_data):
    home = copy_of(two_home, tmp_path)
    truncate(the_file(home, "architectures", "nbmacro"))
    ingest_ok("nbmacro", shared_data, home)
    verified(home)
    assert answers(home)[0] == 92.3033


def test_verify_finds_a_file_changed_in_place(tmp_path, two_home, plus_root):
    # Same name, other content (here: a valid file of other values): names are not enough.
    home = copy_of(two_home, tmp_path)
    other = copy_of(two_home, tmp_path, "other")
    ingest_ok("nbmacro", plus_root, other)
    shutil.copyfile(
        the_file(other, "evaluations", "nbmacro"), the_file(home, "evaluations", "nbmacro")
    )
    result = run_cli("verify", "--home", str(home))
    assert result.exit_code == 1
    assert "evaluations/nbmacro" in result.output and "nasdb ingest nbmacro" in result.output
    assert run_cli("repair", "--home", str(home)).exit_code == 1  # needs the re-ingest it names


def test_failed_transaction_changes_nothing(tmp_path, macro_home):
    import pyarrow as pa

    home = copy_of(macro_home, tmp_path)
    before = answers(home), (home / "manifest.json").read_bytes()
    with pytest.raises(RuntimeError), Catalog(home).transaction() as tx:
        tx.put("runs", "r1", pa.table({"run_id": ["r1"]}))
        raise RuntimeError("stop")
    assert (answers(home), (home / "manifest.json").read_bytes()) == before
    assert not list((home / "runs").iterdir())


def test_a_catalog_without_manifest_is_adopted(tmp_path, macro_home):
    # The layout catalogs had before manifests: plain names, views.sql, no manifest.json.
    home = copy_of(macro_home, tmp_path)
    for table in ("evaluations", "sources", "architectures", "wide"):
        (p,) = (home / table).iterdir()
        p.rename(p.with_name(p.name.split(".")[0] + ".parquet"))
    (home / "manifest.json").unlink()
    (home / "views.sql").write_text("-- tables: stale\n")
    assert answers(home)[:2] == (92.3033, ["nbmacro"])
    result = run_cli("verify", "--home", str(home))
    assert result.exit_code == 1 and "nasdb repair" in result.output
    assert run_cli("repair", "--home", str(home)).exit_code == 0
    verified(home)
    assert not (home / "views.sql").exists()
    assert answers(home)[:2] == (92.3033, ["nbmacro"])


def test_readme_verify_and_repair_run_from_a_shell(tmp_path, two_home):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Catalog integrity", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    verify, repair = (line.split("#")[0].strip() for line in block.strip().splitlines())
    home = copy_of(two_home, tmp_path)
    truncate(the_file(home, "wide", "nb201"))
    env = {**os.environ, "NASDB_HOME": str(home), "PATH": f"{Path(sys.executable).parent}:"
           + os.environ["PATH"]}  # fmt: skip

    def shell(cmd: str):
        return subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True)

    damaged = shell(verify)
    assert damaged.returncode == 1 and "wide/nb201" in damaged.stdout, damaged
    assert shell(repair).returncode == 0
    clean = shell(verify)
    assert clean.returncode == 0 and "match the manifest" in clean.stdout, clean


def test_a_lost_manifest_is_rebuilt_from_the_newest_files(tmp_path, two_home, plus_root):
    home = copy_of(two_home, tmp_path)
    ingest_ok("nbmacro", plus_root, home)  # a newer generation of NB-Macro's files
    (home / "manifest.json").write_text("{not json")
    result = run_cli("verify", "--home", str(home))
    assert result.exit_code == 1 and "manifest.json" in result.output, result.output
    assert run_cli("repair", "--home", str(home)).exit_code == 0
    verified(home)
    assert answers(home)[:4] == (93.3033, ["nb201_mini", "nbmacro"], 88.79, (1, 5))
