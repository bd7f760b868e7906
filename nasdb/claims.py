"""Claims: at most one process trains a given (space, task, arch, fidelity, recipe, seed).

A claim is a small JSON file under ``<home>/claims/`` created with ``O_CREAT | O_EXCL``,
so exactly one of any number of racing processes gets it. It records the holder's pid,
host and start time; a claim whose pid is dead on this host, or older than
``$NASDB_CLAIM_TIMEOUT`` seconds (default 6 h, for holders on other machines), is stale
and may be broken. Claims are not catalog data: the manifest never names them.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path

from nasdb.errors import NasdbError

CLAIMS_DIR = "claims"
DEFAULT_TIMEOUT = 6 * 3600.0


def timeout() -> float:
    try:
        return float(os.environ.get("NASDB_CLAIM_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        raise NasdbError(
            f"NASDB_CLAIM_TIMEOUT: expected seconds, got {os.environ['NASDB_CLAIM_TIMEOUT']!r}"
        ) from None


def claim_path(home: Path, *key) -> Path:
    name = hashlib.sha256(json.dumps([str(k) for k in key]).encode()).hexdigest()[:32]
    return Path(home) / CLAIMS_DIR / f"{name}.json"


def try_claim(path: Path) -> bool:
    """Create the claim atomically; False if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as fh:
        json.dump({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}, fh)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(path: Path) -> bool:
    """The holder died (same host) or the claim outlived the timeout; a claim file being
    written (empty or partial JSON) is stale only once it is old."""
    try:
        st = path.stat()
        info = json.loads(path.read_text())
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return time.time() - st.st_mtime > 5.0
    if time.time() - float(info.get("time", 0)) > timeout():
        return True
    return info.get("host") == socket.gethostname() and not _alive(int(info.get("pid", 0)))


def release(path: Path) -> None:
    path.unlink(missing_ok=True)


def break_stale(path: Path) -> bool:
    """Remove a stale claim so that a waiter can take it; True if it was removed.

    Renaming it aside first means two waiters that both judged it stale cannot remove a
    fresh claim the other one created in between.
    """
    if not is_stale(path):
        return False
    aside = path.with_name(f".{path.name}.{os.getpid()}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False
    if not is_stale(aside):  # someone else's fresh claim moved aside: put it back
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
    aside.unlink(missing_ok=True)
    return True
