"""One writer at a time: an exclusive ``flock`` on ``<home>/.lock``.

Readers never take it (they read a committed manifest). The lock is the kernel's, so it
is released when the writer exits or dies, ``kill -9`` included. It serialises writers on
one machine and on network filesystems whose ``flock`` reaches the server (Linux NFSv4
clients map it to an NFS lock); it does not hold across machines on filesystems that
keep ``flock`` local to each client (NFS mounted with ``nolock`` or ``local_lock=flock``,
some FUSE and SMB mounts). Such a home must have one writing machine.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nasdb.errors import NasdbError

LOCK_FILE = ".lock"
DEFAULT_TIMEOUT = 600.0


class LockTimeout(NasdbError):
    """Another process kept the catalog's writer lock for longer than we would wait."""


def timeout() -> float:
    """Seconds a writer waits for the lock: ``$NASDB_LOCK_TIMEOUT``, default 600."""
    try:
        return float(os.environ.get("NASDB_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        raise NasdbError(
            "NASDB_LOCK_TIMEOUT: expected a number of seconds, got "
            f"{os.environ['NASDB_LOCK_TIMEOUT']!r}"
        ) from None


@contextmanager
def writer(home: Path) -> Iterator[None]:
    """Hold the home's writer lock, waiting for another writer to finish."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        limit = timeout()
        deadline = time.monotonic() + limit
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{home}: another nasdb process is writing to this catalog; waited "
                        f"{limit:g} s for it (set NASDB_LOCK_TIMEOUT to wait longer)"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        yield
    finally:
        os.close(fd)  # releases the lock
