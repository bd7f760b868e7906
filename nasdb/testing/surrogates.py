"""``check_surrogate``: the contracts every surrogate keeps, checked on real tables.

For a trainable model (an :class:`~nasdb.surrogates.base.Ensemble` family registered in
``nasdb.surrogates.models``), fitted on a few hundred architectures of a real key:

- fit/predict: ``predict`` gives finite means and non-negative spreads of the right shape,
  nothing before ``fit``, and an empty answer for no rows;
- degenerate fits are refused in one line (constant, non-finite or too few targets,
  inputs that do not match the targets, inputs that all look alike);
- a seed fixes the fit bit for bit, and another seed changes it;
- a model stored through the surrogate store and read back, here and in a fresh process,
  predicts bit-identically;
- tampered files are refused in one line, never loaded silently: a changed byte in a
  member file or in the card, a missing member, and a pickle posing as a member file,
  whose code never runs.

For an imported surrogate (YAHPO's NAS-Bench-301 model) the same holds where it applies:
finite, deterministic, batch-independent predictions, the same after reloading its files,
and one error line for a damaged or missing file.

A failure raises AssertionError naming the check and what went wrong.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from nasdb.errors import SurrogateError

NAME = "checked"  # the surrogate's name in the kit's own temporary catalog


def check_surrogate(
    model,
    db=None,
    *,
    space: str = "nb201",
    task: str = "cifar10",
    metric: str = "test_accuracy",
    train_size: int = 200,
    test_size: int = 200,
    fresh_process: bool = True,
) -> list[str]:
    """Run every check on ``model``; return the names of the checks run.

    ``model`` is an unfitted Ensemble, configured as it should be checked (members,
    seed, threads, hyperparameters), fitted on ``train_size`` architectures of
    ``space/task/metric`` in ``db`` (read only; ``nasdb.connect()`` if None); or a
    :class:`~nasdb.surrogates.yahpo_nb301.YahpoNB301`. ``fresh_process=False`` skips
    the reload in a new Python process.
    """
    from nasdb.surrogates.yahpo_nb301 import YahpoNB301

    if isinstance(model, YahpoNB301):
        return _check_imported(model)
    if db is None:
        from nasdb import connect

        db = connect()
    return _Trainable(model, db, space, task, metric, train_size, test_size).run(fresh_process)


class _Trainable:
    """One Ensemble family fitted on one key; each check a method."""

    def __init__(self, model, db, space, task, metric, train_size, test_size):
        from nasdb.surrogates import training

        self.model, self.db = model, db
        self.label = f"check_surrogate({model.kind})"
        self.plan = training.Plan(
            db.resolve(space, task=task, metric=metric),
            model=model.kind,
            train_size=train_size,
            seed=model.seed,
            members=model.members,
            params={k: model.params[k] for k in model.given},
            threads=model.threads,
            max_test=test_size,
        )
        self.fitted = training.fit(db, self.plan)  # through the registry, as the CLI fits
        indices, values = training.select(db, self.plan.key)
        self.y = values[np.searchsorted(indices, self.fitted.train)]
        self.X = self.inputs(self.fitted.train)
        self.test = self.fitted.test[:test_size]
        self.X_test = self.inputs(self.test)
        registered = type(model) is type(self.fitted.model)
        self.own = self.fitted.model if registered else self.fresh().fit(self.X, self.y)

    def inputs(self, indices):
        from nasdb.surrogates import training

        p = self.plan
        return training.inputs(self.db, p.key.space, p.key.task, p.features, p.proxies,
                               indices, p.canonical)  # fmt: skip

    def fresh(self, seed: int | None = None):
        """An unfitted model of the class under test (another seed if given)."""
        p = self.plan
        return type(self.model)(members=p.members, seed=p.seed if seed is None else seed,
                                threads=p.threads, **p.params)  # fmt: skip

    def run(self, fresh_process: bool) -> list[str]:
        checks = [("fit/predict", self.predictions), ("degenerate fits", self.degenerate),
                  ("seeded", self.seeded), ("store reload", self.reload)]  # fmt: skip
        done = []
        for name, check in checks:
            check(f"{self.label}: {name}", fresh_process)
            done.append(name)
        return done

    # checks ------------------------------------------------------------------------
    def predictions(self, where: str, _) -> None:
        mean, std = self.own.predict(self.X_test)
        n = len(self.test)
        for what, a in (("mean", mean), ("std", std)):
            if not (isinstance(a, np.ndarray) and a.shape == (n,) and a.dtype == np.float64):
                _fail(where, f"{what} is not a float64 array of shape ({n},)")
            if not np.isfinite(a).all():
                _fail(where, f"{what} has values that are not finite")
        if (std < 0).any():
            _fail(where, "a negative std")
        empty = self.own.predict(self.X_test[:0])
        if [len(a) for a in empty] != [0, 0]:
            _fail(where, "no rows in, but rows out")
        _refused(where, "predict before fit", lambda: self.fresh().predict(self.X_test))

    def degenerate(self, where: str, _) -> None:
        X, y = self.X, self.y
        same = X[np.zeros(len(y), dtype=np.int64)]
        bad = {
            "constant targets": (X, np.full(len(y), y[0])),
            "a NaN target": (X, np.where(np.arange(len(y)) == 1, np.nan, y)),
            "one row": (X[:1], y[:1]),
            "more targets than rows": (X[:-1], y),
            "identical inputs": (same, y),
        }
        for what, (inputs, targets) in bad.items():
            _refused(f"{where}: {what}", None, lambda i=inputs, t=targets: self.fresh().fit(i, t))

    def seeded(self, where: str, _) -> None:
        want = self.own.predict(self.X_test)
        again = self.fresh().fit(self.X, self.y).predict(self.X_test)
        if not all(a.tobytes() == b.tobytes() for a, b in zip(want, again, strict=True)):
            _fail(where, f"seed {self.plan.seed} fitted two different models")
        other = self.fresh(self.plan.seed + 1).fit(self.X, self.y).predict(self.X_test)
        if np.array_equal(want[0], other[0]):
            _fail(where, f"seeds {self.plan.seed} and {self.plan.seed + 1} fitted the same model")

    def reload(self, where: str, fresh_process: bool) -> None:
        from nasdb import catalog
        from nasdb.surrogates import store

        active = list(catalog._active_home)  # a Catalog becomes the process's cache home
        with tempfile.TemporaryDirectory(prefix="nasdb-check-surrogate-") as tmp:
            home = Path(tmp) / "home"
            try:
                cat = catalog.Catalog(home)
                with cat.transaction() as tx:
                    store.save(tx, NAME, self.fitted.model, self.fitted.card)
                _same(where, "after store.load", self.fitted.model.predict(self.X_test),
                      store.load(cat, NAME)[0].predict(self.X_test))  # fmt: skip
                if fresh_process:
                    _same(where, "in a fresh process", self.fitted.model.predict(self.X_test),
                          self._elsewhere(home, Path(tmp)))  # fmt: skip
                _tampered(where, cat, store.model_dir(cat, NAME), self.plan.model)
            finally:
                catalog._active_home[:] = active

    def _elsewhere(self, home: Path, tmp: Path) -> tuple[np.ndarray, np.ndarray]:
        """Predictions of the stored model read back by another Python process."""
        np.save(tmp / "indices.npy", self.test)
        p = self.plan
        code = textwrap.dedent(f"""
            import sys, numpy as np, nasdb
            from nasdb.catalog import Catalog
            from nasdb.surrogates import store, training
            db = nasdb.connect(sys.argv[1])
            model, _ = store.load(Catalog(sys.argv[2]), {NAME!r})
            X = training.inputs(db, {p.key.space!r}, {p.key.task!r}, {p.features!r},
                                {tuple(p.proxies)!r}, np.load(sys.argv[3] + "/indices.npy"),
                                {p.canonical!r})
            np.save(sys.argv[3] + "/mean.npy", model.predict(X)[0])
            np.save(sys.argv[3] + "/std.npy", model.predict(X)[1])
        """)
        subprocess.run([sys.executable, "-c", code, str(self.db.home), str(home), str(tmp)],
                       check=True, timeout=300)  # fmt: skip
        return np.load(tmp / "mean.npy"), np.load(tmp / "std.npy")


# tampering ----------------------------------------------------------------------------------
def _tampered(where: str, cat, directory: Path, kind: str) -> None:
    """Each damage to the stored files is refused in one line, and undone afterwards."""
    from nasdb.surrogates import store

    card_path = directory / "card.json"
    card = json.loads(card_path.read_text())
    edited = json.loads(card_path.read_text())
    edited["model"]["hyperparameters"]["seed"] += 1  # valid JSON, another model's settings
    damages = {"an edited card": (card_path, json.dumps(edited, indent=2).encode())}
    for name in [*card["files"], "card.json"]:
        raw = (directory / name).read_bytes()
        flipped = bytearray(raw)
        flipped[len(raw) // 2] ^= 0x01
        damages[f"a byte flipped in {name}"] = (directory / name, bytes(flipped))
    member = directory / next(iter(card["files"]))
    damages[f"{member.name} missing"] = (member, None)
    for what, (path, data) in damages.items():
        raw = path.read_bytes()
        try:
            if data is None:
                path.unlink()
            else:
                path.write_bytes(data)
            _refused(f"{where}: {what}", None, lambda: store.load(cat, NAME))
        finally:
            path.write_bytes(raw)
    _pickle_refused(where, directory, card, kind)


class _Payload:
    """A pickle that, if ever unpickled, creates the file at ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _pickle_refused(where: str, directory: Path, card: dict, kind: str) -> None:
    """A member file replaced by a pickle, with a card that vouches for it: the library's
    loader must refuse it without running it."""
    from nasdb.surrogates import store

    with tempfile.TemporaryDirectory(prefix="nasdb-pickle-") as tmp:
        marker = Path(tmp) / "payload-ran"
        for name in card["files"]:
            (Path(tmp) / name).write_bytes(pickle.dumps(_Payload(marker), protocol=2))
        files, hp = list(card["files"]), card["model"]["hyperparameters"]
        _refused(f"{where}: a pickle as member file", None,
                 lambda: store.read_members(NAME, kind, Path(tmp), files, hp))  # fmt: skip
        if marker.exists():
            _fail(where, "loading a member file unpickled it and ran its code")


# an imported surrogate ---------------------------------------------------------------------
def _check_imported(model) -> list[str]:
    """YAHPO's NB301 model: predictions, reload and damaged files."""
    from nasdb import spaces
    from nasdb.surrogates.yahpo_nb301 import RECORD

    label = f"check_surrogate({model.name})"
    archs = spaces.get(model.space).sample(np.random.default_rng(0), 200)
    got = model.predict(archs)
    for name, values in got.items():
        if values.shape != (len(archs),) or not np.isfinite(values).all():
            _fail(f"{label}: fit/predict", f"{name} is not {len(archs)} finite values")
    again = model.predict(archs)
    fresh = type(model)(model.path).predict(archs)
    for name in got:
        if got[name].tobytes() != again[name].tobytes():
            _fail(f"{label}: deterministic", f"two calls gave two answers for {name}")
        if got[name].tobytes() != fresh[name].tobytes():
            _fail(f"{label}: reload", f"reloaded files answer otherwise for {name}")
    part = model.predict(archs[:20])
    if not all(np.allclose(part[k], got[k][:20], rtol=1e-6, atol=0) for k in got):
        _fail(f"{label}: batch independent", "a batch's size changes its answers")
    with tempfile.TemporaryDirectory(prefix="nasdb-check-surrogate-") as tmp:
        copy = Path(tmp) / "files"
        shutil.copytree(model.directory, copy)
        for f in (copy / entry["path"] for entry in RECORD["files"]):
            f.chmod(0o644)
            raw = f.read_bytes()
            flipped = bytearray(raw)
            flipped[len(raw) // 2] ^= 0x01
            for what, data in (("a byte flipped in", bytes(flipped)), ("missing:", None)):
                if data is None:
                    f.unlink()
                else:
                    f.write_bytes(data)
                _refused(f"{label}: {what} {f.name}", f.name,
                         lambda: type(model)(copy).predict(archs[:1]))  # fmt: skip
                f.write_bytes(raw)
    return ["fit/predict", "deterministic", "reload", "batch independent", "damaged files"]


# helpers ------------------------------------------------------------------------------------
def _refused(where: str, needle: str | None, call) -> None:
    """``call`` must fail with one SurrogateError line (naming ``needle`` if given)."""
    try:
        call()
    except SurrogateError as exc:
        text = str(exc)
        if "\n" in text or (needle and needle not in text):
            _fail(where, f"the error {text!r} is not one line naming {needle!r}")
        return
    except Exception as exc:
        _fail(where, f"raised {type(exc).__name__}, not one SurrogateError line: {exc}")
    _fail(where, "was accepted, not refused")


def _same(where: str, what: str, want, got) -> None:
    if not all(a.tobytes() == b.tobytes() for a, b in zip(want, got, strict=True)):
        _fail(where, f"predictions {what} differ from the fitted model's")


def _fail(where: str, problem: str) -> None:
    raise AssertionError(f"{where}: {problem}")
