"""The README's two set-up commands are what CI runs, and the CPU builds are chosen once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO
from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli
    import tomli as tomllib

README = (REPO / "README.md").read_text()
MAKEFILE = (REPO / "Makefile").read_text()
STAMP = REPO / ".venv" / ".installed"
TORCH_PAGE = "https://download.pytorch.org/whl/cpu/torch/"


def commands(block: str) -> list[str]:
    """Shell lines of a README block or script, without comments and shell options."""
    lines = (line.split(" #")[0].strip() for line in block.splitlines())
    return [line for line in lines if line and not line.startswith(("#", "set ", "cd "))]


def readme_block(heading: str) -> list[str]:
    section = README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return commands(re.search(r"```bash\n(.*?)```", section, flags=re.S)[1])


def recipe(target: str) -> tuple[list[str], list[str]]:
    """A Makefile target's prerequisites and its recipe, with make's variables expanded."""
    match = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n)*)", MAKEFILE, flags=re.M)
    assert match, f"Makefile has no target {target}"
    lines = [line.strip() for line in match[2].splitlines()]
    lines = [line.replace("$(BIN)/", "").replace("$(VENV)", ".venv") for line in lines]
    return match[1].split(), lines


def requirements(path: Path, platform: str) -> dict[str, str]:
    """Name -> specifier of a requirements file's packages on ``sys_platform == platform``."""
    out = {}
    for line in commands(path.read_text()):
        if not line.startswith("-"):
            req = Requirement(line)
            if applies(req, platform):
                out[req.name] = str(req.specifier)
    return out


def applies(req: Requirement, platform: str) -> bool:
    return req.marker is None or req.marker.evaluate({"sys_platform": platform, "extra": ""})


def test_readme_commands_are_the_makefile_targets_and_ci_runs_the_test_one():
    quickstart, test = readme_block("Set up in two commands")
    assert (quickstart, test) == ("make quickstart", "make test")
    assert commands((REPO / ".ci" / "run").read_text()) == [test]
    for target in ("quickstart", "test"):
        prerequisites, _ = recipe(target)
        assert prerequisites == ["$(VENV)/.installed"]
    assert recipe("quickstart")[1] == ["nasdb quickstart"]
    assert recipe("test")[1] == ["ruff check .", "python -m pytest -q --durations=20"]


def test_makefile_installs_as_the_readme_pip_route_says():
    _, lines = recipe("$(VENV)/.installed")
    installs = [
        line.replace("python -m pip", "pip").replace(" --quiet", "")
        for line in lines
        if " pip install" in line and "--upgrade pip" not in line
    ]
    route = [line for line in readme_block("Install") if line.startswith("pip install")]
    assert installs == route == ["pip install --no-deps -r requirements-cpu.txt",
                                 "pip install -e '.[test]'"]


def test_cpu_builds_are_chosen_in_one_place():
    pins = REPO / "requirements-cpu.txt"
    assert requirements(pins, "linux") == {"torch": "==2.13.0+cpu", "syne-tune": "==0.16.0"}
    assert requirements(pins, "darwin") == {"torch": "==2.13.0", "syne-tune": "==0.16.0"}
    assert f"--find-links {TORCH_PAGE}" in commands(pins.read_text())
    for path in ("README.md", "Makefile", ".ci/run", "pyproject.toml"):
        text = (REPO / path).read_text()
        assert "torch==" not in text and "download.pytorch.org" not in text, path
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    surrogates = [Requirement(r) for r in extras["optional-dependencies"]["surrogates"]]
    for platform, name in (("linux", "xgboost-cpu"), ("darwin", "xgboost")):
        chosen = {r.name for r in surrogates if applies(r, platform)}
        assert {"xgboost", "xgboost-cpu"} & chosen == {name}, platform
    assert not [line for line in commands(MAKEFILE + pins.read_text()) if "xgboost" in line]


def made_by_make() -> bool:
    """Whether this is `make`'s environment, up to date (so `make` installs nothing)."""
    if not STAMP.is_file() or Path(sys.prefix).resolve() != STAMP.parent.resolve():
        return False
    return subprocess.run(["make", "-q", ".venv/.installed"], cwd=REPO).returncode == 0


needs_make_env = pytest.mark.skipif(not made_by_make(), reason="not the environment make built")


@needs_make_env
def test_environment_has_cpu_builds_only():
    assert metadata.version("torch") == requirements(REPO / "requirements-cpu.txt", sys.platform)[
        "torch"
    ].removeprefix("==")
    names = {d.metadata["Name"].lower() for d in metadata.distributions()}
    assert not {n for n in names if n.startswith("nvidia-")}
    if sys.platform == "linux":
        assert "xgboost-cpu" in names and "xgboost" not in names


def test_syne_tune_without_dependencies_has_all_it_needs_but_xgboost():
    """requirements-cpu.txt installs syne-tune with --no-deps; the synetune-deps extra must
    name every requirement of that version but XGBoost, whose CPU build stands in for it."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = {Requirement(r).name.lower() for r in extras["optional-dependencies"]["synetune-deps"]}
    needed = {
        Requirement(r).name.lower()
        for r in metadata.requires("syne-tune")
        if applies(Requirement(r), sys.platform)
    }
    assert needed - {"numpy"} - deps == {"xgboost"}


@needs_make_env
def test_make_quickstart_answers_from_packaged_data(tmp_path):
    env = {**os.environ, "NASDB_HOME": str(tmp_path)}
    done = subprocess.run(
        ["make", "quickstart"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert "ingested nbgraph" in done.stdout and "ingested analog_nasbench" in done.stdout
    from nasdb import connect

    db = connect(tmp_path)
    # NAS-Bench-Graph's space holds 26,206 distinct GNN architectures.
    assert db.sql("SELECT count(*) FROM architectures WHERE space = 'nbgraph'").fetchall() == [
        (26206,)
    ]
