"""Atomic directory swap shared by the scene writer and the memory store."""

from __future__ import annotations

import os

import pytest

from spatialmem.fsutil import swap_into_place, sweep_stale_partials, temp_sibling


def _dir(path, text):
    path.mkdir()
    (path / "f.txt").write_text(text)
    return path


def test_swap_replaces_existing_target_and_leaves_no_temp(tmp_path):
    target = _dir(tmp_path / "t", "old")
    tmp = _dir(temp_sibling(target), "new")
    assert tmp.name.startswith(".t.partial-")
    swap_into_place(tmp, target)
    assert (target / "f.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["t"]


def test_failed_second_rename_puts_the_old_target_back(tmp_path, monkeypatch):
    target = _dir(tmp_path / "t", "old")
    tmp = _dir(temp_sibling(target), "new")
    real = os.replace

    def flaky(src, dst):
        if os.fspath(src) == os.fspath(tmp):
            raise OSError("simulated")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="simulated"):
        swap_into_place(tmp, target)
    assert (target / "f.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t"]


def test_sweep_stale_partials_keeps_live_runs_and_old_folders(tmp_path):
    target = tmp_path / "t"
    mine = _dir(temp_sibling(target), "live")
    dead = _dir(tmp_path / ".t.partial-999999999-deadbeef", "x")
    old = _dir(tmp_path / ".t.old-999999999-deadbeef", "x")
    other = _dir(tmp_path / ".u.partial-999999998-deadbeef", "x")  # a dead run that wrote another name
    plain = _dir(tmp_path / "t.partial-999999999-deadbeef", "x")  # not hidden: not ours
    assert sorted(sweep_stale_partials(tmp_path)) == sorted([dead, other])
    assert mine.exists() and old.exists() and plain.exists() and not dead.exists() and not other.exists()
