"""Where trainings run: a local process pool (default) or a Ray cluster (``nasdb[ray]``).

An executor only trains (:func:`nasdb.networks.training.train`, a pure function) and
hands back the :class:`~nasdb.networks.training.TrainResult`; claiming, writing back
and releasing stay in the searching process, so a remote worker never needs the catalog.
"""

from __future__ import annotations

from nasdb.errors import NasdbError

EXECUTORS = ("local", "ray")


class ExecutorError(NasdbError):
    """An executor that cannot start (Ray missing, a cluster that does not answer)."""


def _train(space, arch, task, recipe, seed, device):
    from nasdb.networks import training

    return training.train(space, arch, task, recipe, seed, device=device)


class LocalExecutor:
    """``workers`` spawned processes, each training one network at a time."""

    def __init__(self, workers: int = 1, device=None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = max(1, int(workers))
        self.device = device
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
        )

    def train(self, space, arch, task, recipe, seed):
        """Block until the training is done; a worker that died is an error."""
        from concurrent.futures.process import BrokenProcessPool

        fut = self._pool.submit(_train, space, int(arch), task, recipe, seed, self.device)
        try:
            return fut.result()
        except BrokenProcessPool:
            raise ExecutorError(
                "a training worker process died (killed or out of memory); nothing was stored"
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Trainings as Ray tasks on the cluster at ``address`` (``None``: a local instance)."""

    def __init__(self, address: str | None = None, workers: int = 1, device=None):
        try:
            import ray
        except ImportError:
            raise ExecutorError(
                "--executor ray: Ray is not installed; pip install 'nasdb[ray]'"
            ) from None
        self.workers = max(1, int(workers))
        self.device = device
        self._ray = ray
        self._started = False
        if address not in (None, "auto", "local") and not address.startswith("ray://"):
            _probe(address)  # ray.init retries an unreachable address for minutes
        if not ray.is_initialized():
            try:
                ray.init(address=address, num_cpus=None if address else self.workers,
                         include_dashboard=False, log_to_driver=False,
                         ignore_reinit_error=True)  # fmt: skip
            except Exception as exc:  # ConnectionError, RuntimeError, ValueError by version
                where = address or "a local instance"
                raise ExecutorError(
                    f"--executor ray --address {where}: cannot connect "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                ) from None
            self._started = True
        self._remote = ray.remote(num_cpus=1)(_train)

    def train(self, space, arch, task, recipe, seed):
        ref = self._remote.remote(space, int(arch), task, recipe, seed, self.device)
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayError as exc:
            raise ExecutorError(f"a Ray training task failed: {type(exc).__name__}") from None

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()


def _probe(address: str) -> None:
    """Refuse an address where nothing listens, at once and in one line."""
    import socket

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(f"--address {address!r}: expected HOST:PORT of a Ray cluster")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise ExecutorError(
            f"--executor ray --address {address}: no Ray cluster answers there ({exc})"
        ) from None


def make(kind: str = "local", workers: int = 1, address: str | None = None, device=None):
    if kind == "local":
        if address:
            raise ExecutorError("--address applies to --executor ray only")
        return LocalExecutor(workers, device)
    if kind == "ray":
        return RayExecutor(address, workers, device)
    raise ExecutorError(f"--executor {kind!r}: one of {', '.join(EXECUTORS)}")
