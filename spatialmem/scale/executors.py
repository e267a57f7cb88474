"""Executors: run independent tasks (one per scene) on a local process pool or on a Ray cluster.

Both executors take the same :class:`Task` list and report each finished task once, as a
:class:`TaskOutcome`, through a callback in the calling process, in completion order. Tasks must be
idempotent: a task that fails (its function raised, or its worker process died) is run again, up to
``retries`` more times; after that its outcome carries the error and the run goes on.

* ``local``: a ``spawn`` process pool of ``workers`` processes. A worker that dies breaks a Python
  process pool, so the pool is rebuilt and the unfinished tasks resubmitted; only the tasks that were
  running in it when it broke are charged an attempt (each running task leaves a marker file that
  its worker removes when it finishes).
* ``ray``: one Ray task per :class:`Task`, with its declared resources (``num_cpus``, ``num_gpus``);
  Ray itself retries tasks whose worker died (``max_retries``) and those that raised
  (``retry_exceptions``). ``address`` joins an existing cluster (``ray://host:10001`` or ``auto``);
  otherwise a local Ray instance is started with ``workers`` CPUs and shut down afterwards.

Executors are registered backends (registry kind ``executor``): ``spatialmem.registry.build("executor",
name, workers=..., retries=..., address=...)``.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from spatialmem.errors import InputError, require_package

DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class Resources:
    """What one task needs from a worker: CPU cores and GPUs (fractions allowed, as in Ray)."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0

    def __post_init__(self) -> None:
        if not (self.num_cpus >= 0 and self.num_gpus >= 0):
            raise InputError(f"task resources must be >= 0, got {self}")


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(*args)`` run in a worker process.

    Attributes:
        key: unique name of the task (the scene), used in outcomes and messages.
        fn: a module-level function (it is pickled by reference into the worker).
        args: its arguments (picklable).
        resources: what the task needs (Ray schedules by it; the local pool runs one task per worker).
        weight: how much of the progress total the task accounts for (e.g. its number of questions).
    """

    key: str
    fn: Callable[..., Any]
    args: tuple = ()
    resources: Resources = field(default_factory=Resources)
    weight: int = 1


@dataclass(frozen=True)
class TaskOutcome:
    """A finished task: its value, or the error of its last attempt, and how many attempts it took."""

    key: str
    value: Any = None
    error: str | None = None
    attempts: int = 1
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


OnDone = Callable[[TaskOutcome], None]


class Executor(Protocol):
    """Runs tasks and calls ``on_done`` once per task (in the calling process)."""

    name: str

    def run(self, tasks: Sequence[Task], on_done: OnDone) -> list[TaskOutcome]: ...


def _check_unique(tasks: Sequence[Task]) -> None:
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise InputError("task keys must be unique; got duplicates: "
                         + ", ".join(sorted({k for k in keys if keys.count(k) > 1})))


def _check_settings(workers: int, retries: int) -> None:
    if workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    if retries < 0:
        raise InputError(f"--retries must be >= 0, got {retries}")


def _error_text(exc: BaseException | None) -> str:
    return "failed without an exception" if exc is None else f"{type(exc).__name__}: {exc}"


# ------------------------------------------------------------------------------------------- local
def _marker(markers: str, key: str) -> Path:
    return Path(markers) / (hashlib.sha1(key.encode("utf-8")).hexdigest() + ".running")


def _run_marked(markers: str, key: str, fn: Callable[..., Any], args: tuple) -> Any:
    """Worker side of the local pool: mark the task as running, run it, unmark it (also when it raises)."""
    mark = _marker(markers, key)
    mark.write_text(str(os.getpid()), encoding="utf-8")
    try:
        return fn(*args)
    finally:
        mark.unlink(missing_ok=True)


class LocalExecutor:
    """A ``spawn`` process pool with ``workers`` processes (see the module docstring)."""

    name = "local"

    def __init__(self, workers: int = 1, retries: int = DEFAULT_RETRIES, **_: Any) -> None:
        _check_settings(workers, retries)
        self.workers = workers
        self.retries = retries

    def run(self, tasks: Sequence[Task], on_done: OnDone) -> list[TaskOutcome]:
        _check_unique(tasks)
        outcomes: list[TaskOutcome] = []
        if not tasks:
            return outcomes
        by_key = {t.key: t for t in tasks}
        attempts = dict.fromkeys(by_key, 0)
        started: dict[str, float] = {}
        todo = [t.key for t in tasks]
        markers = tempfile.mkdtemp(prefix="spatialmem-tasks-")

        reported: set[str] = set()

        def finish(key: str, value: Any = None, error: str | None = None) -> None:
            reported.add(key)
            out = TaskOutcome(key, value, error, attempts[key], time.perf_counter() - started[key])
            outcomes.append(out)
            on_done(out)

        try:
            while todo:
                ctx = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=min(self.workers, len(todo)), mp_context=ctx) as pool:
                    futures: dict[Future, str] = {}
                    for key in todo:
                        t = by_key[key]
                        attempts[key] += 1
                        started.setdefault(key, time.perf_counter())
                        futures[pool.submit(_run_marked, markers, key, t.fn, t.args)] = key
                    todo = []
                    broken = False
                    pending = set(futures)
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for fut in done:
                            key = futures[fut]
                            try:
                                value = fut.result()
                            except BrokenProcessPool:
                                broken = True
                                continue
                            except Exception as exc:  # the task raised: retry it, or report it
                                if attempts[key] <= self.retries:
                                    todo.append(key)
                                else:
                                    finish(key, error=_error_text(exc))
                                continue
                            finish(key, value)
                        if broken:
                            break
                    if broken:
                        todo += self._after_break(futures, markers, attempts, reported | set(todo), finish)
                # tasks that raised are retried in the next round; their attempt was counted when submitted
        finally:
            shutil.rmtree(markers, ignore_errors=True)
        return outcomes

    def _after_break(self, futures: dict[Future, str], markers: str, attempts: dict[str, int],
                     handled: set[str], finish: Callable[..., None]) -> list[str]:
        """Keys to resubmit after a worker died: its running tasks are charged, queued ones are not.

        ``handled``: keys already reported or requeued in this round. Tasks that finished before the
        break but were not handled yet are handled now.
        """
        again: list[str] = []
        for fut, key in futures.items():
            if key in handled:
                continue
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                finish(key, fut.result())
                continue
            if fut.done() and not fut.cancelled() and not isinstance(fut.exception(), BrokenProcessPool):
                exc = fut.exception()  # raised on its own before the break: retried like any failure
                if attempts[key] <= self.retries:
                    again.append(key)
                else:
                    finish(key, error=_error_text(exc))
                continue
            running = _marker(markers, key).exists()
            _marker(markers, key).unlink(missing_ok=True)
            if not running:
                attempts[key] -= 1  # never started: this round does not count against it
                again.append(key)
            elif attempts[key] <= self.retries:
                again.append(key)
            else:
                finish(key, error=f"its worker process died (after {attempts[key]} attempts)")
        return again


# --------------------------------------------------------------------------------------------- ray
def _check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Refuse a ``host:port`` or ``ray://host:port`` Ray address that nothing answers on (Ray itself would wait
    for minutes); ``auto`` and None are left to Ray."""
    import socket

    if not address or address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray-address {address!r}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise InputError(f"no Ray cluster answers at --ray-address {address!r} ({exc}); start one with "
                         "'ray start --head', or leave --ray-address out to start Ray locally") from None


def _ray_call(fn: Callable[..., Any], args: tuple) -> Any:
    return fn(*args)


class RayExecutor:
    """One Ray task per :class:`Task` (see the module docstring)."""

    name = "ray"

    def __init__(self, workers: int = 1, retries: int = DEFAULT_RETRIES, address: str | None = None,
                 **_: Any) -> None:
        _check_settings(workers, retries)
        self.workers = workers
        self.retries = retries
        self.address = address or None

    def _init(self):
        ray = require_package("ray", "ray", "the Ray executor")
        _check_reachable(self.address)
        started_here = False
        if not ray.is_initialized():
            kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
            if self.address:
                kw["address"] = self.address
            else:
                kw["num_cpus"] = self.workers
            try:
                ray.init(**kw)
            except Exception as exc:  # a wrong address, or a local start that failed
                where = f"the Ray cluster at {self.address!r}" if self.address else "a local Ray instance"
                raise InputError(f"could not connect to {where}: {_error_text(exc)} "
                                 "(check --ray-address, or leave it out to start Ray locally)") from exc
            started_here = True
        return ray, started_here

    def run(self, tasks: Sequence[Task], on_done: OnDone) -> list[TaskOutcome]:
        _check_unique(tasks)
        outcomes: list[TaskOutcome] = []
        if not tasks:
            return outcomes
        ray, started_here = self._init()
        try:
            remote = ray.remote(_ray_call)
            refs: dict[Any, Task] = {}
            t0: dict[str, float] = {}
            for t in tasks:
                opts = remote.options(num_cpus=t.resources.num_cpus, num_gpus=t.resources.num_gpus,
                                      max_retries=self.retries, retry_exceptions=True, name=f"spatialmem:{t.key}")
                refs[opts.remote(t.fn, t.args)] = t
                t0[t.key] = time.perf_counter()
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    t = refs[ref]
                    try:
                        out = TaskOutcome(t.key, ray.get(ref), None, 0, time.perf_counter() - t0[t.key])
                    except Exception as exc:  # RayTaskError, WorkerCrashedError ... after Ray's retries
                        cause = getattr(exc, "cause", None) or exc
                        out = TaskOutcome(t.key, None, f"{_error_text(cause)} (after {self.retries + 1} attempts)",
                                          self.retries + 1, time.perf_counter() - t0[t.key])
                    outcomes.append(out)
                    on_done(out)
        finally:
            if started_here:
                ray.shutdown()
        return outcomes
