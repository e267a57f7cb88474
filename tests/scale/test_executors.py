"""Executors: every task reported exactly once, bounded retries, a dead worker survived (local and Ray)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from spatialmem import registry
from spatialmem.errors import InputError
from spatialmem.scale.executors import LocalExecutor, Task

sys.path.insert(0, str(Path(__file__).parent))  # spawn workers inherit sys.path: they import the helpers by name
import scale_faults  # noqa: E402


def run(executor, tasks):
    seen = []
    outcomes = executor.run(tasks, seen.append)
    assert outcomes == seen
    return {o.key: o for o in outcomes}


def test_local_executor_runs_every_task_once():
    out = run(LocalExecutor(workers=2), [Task(f"t{i}", scale_faults.square, (i,)) for i in range(5)])
    assert sorted(out) == [f"t{i}" for i in range(5)]
    assert all(o.ok and o.value == int(k[1:]) ** 2 and o.attempts == 1 for k, o in out.items())


def test_local_executor_gives_up_after_the_retries_and_keeps_going():
    out = run(LocalExecutor(workers=2, retries=2),
              [Task("bad", scale_faults.fail_always, (3,)), Task("good", scale_faults.square, (4,))])
    assert out["good"].ok and out["good"].value == 16
    assert not out["bad"].ok and out["bad"].attempts == 3
    assert "ValueError: bad input 3" in out["bad"].error


def test_local_executor_survives_a_dead_worker(tmp_path):
    marker = tmp_path / "die"
    marker.touch()
    tasks = [Task("dies", scale_faults.die_if_marked, (str(marker), 7))]
    tasks += [Task(f"ok{i}", scale_faults.square, (i,)) for i in range(4)]
    out = run(LocalExecutor(workers=2, retries=1), tasks)
    assert len(out) == 5 and all(o.ok for o in out.values())
    assert out["dies"].value == 7 and out["dies"].attempts == 2
    assert not marker.exists()


def test_local_executor_reports_a_dead_worker_once_its_retries_are_spent(tmp_path):
    marker = tmp_path / "die"
    marker.touch()
    out = run(LocalExecutor(workers=1, retries=0), [Task("dies", scale_faults.die_if_marked, (str(marker), 1))])
    assert not out["dies"].ok and out["dies"].attempts == 1
    assert "worker process died" in out["dies"].error


def test_executor_settings_are_checked():
    with pytest.raises(InputError, match="--workers"):
        LocalExecutor(workers=0)
    with pytest.raises(InputError, match="unique"):
        LocalExecutor().run([Task("a", scale_faults.square, (1,)), Task("a", scale_faults.square, (2,))], print)
    assert {"local", "ray"} <= set(registry.names("executor"))


def test_an_unreachable_ray_address_is_refused_at_once():
    from spatialmem.scale.executors import RayExecutor

    with pytest.raises(InputError, match="no Ray cluster answers at --ray-address '127.0.0.1:1'"):
        RayExecutor(address="127.0.0.1:1").run([Task("a", scale_faults.square, (1,))], print)
    with pytest.raises(InputError, match="expected auto, HOST:PORT"):
        RayExecutor(address="nonsense").run([Task("a", scale_faults.square, (1,))], print)
