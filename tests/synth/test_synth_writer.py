"""Scene folder writing: determinism, atomicity, overwrite rules, the CLI's bad-input paths."""

from __future__ import annotations

import hashlib

import pytest

from spatialmem.errors import InputError
from spatialmem.synth import writer
from spatialmem.synth.writer import SynthConfig, write_scene

FAST = SynthConfig(num_frames=10, fps=10.0, width=64, height=48, renderer="auto")


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = write_scene(tmp_path / "a", 11, FAST)
    b = write_scene(tmp_path / "b", 11, FAST)
    da, db = _digest(a), _digest(b)
    assert len(da) == 5 + 3 * 10  # scene/intrinsics/frames/video/questions + rgb, depth, instance per frame
    assert da == db
    c = write_scene(tmp_path / "c", 12, FAST)
    assert _digest(c)["scene.json"] != da["scene.json"]


def test_existing_scene_is_kept_without_overwrite(tmp_path):
    path = write_scene(tmp_path, 11, FAST)
    before = _digest(path)
    with pytest.raises(InputError, match="--overwrite"):
        write_scene(tmp_path, 11, FAST)
    assert _digest(path) == before
    write_scene(tmp_path, 11, FAST, overwrite=True)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene_00011"]


def test_interrupted_write_leaves_no_half_written_scene(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = writer.save_png16

    def failing(path, arr):
        calls["n"] += 1
        if calls["n"] == 7:
            raise OSError("disk full (simulated)")
        real(path, arr)

    monkeypatch.setattr(writer, "save_png16", failing)
    with pytest.raises(OSError, match="simulated"):
        write_scene(tmp_path, 11, FAST)
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_scene(tmp_path, monkeypatch):
    path = write_scene(tmp_path, 11, FAST)
    before = _digest(path)

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "save_jpeg", boom)
    with pytest.raises(KeyboardInterrupt):
        write_scene(tmp_path, 11, FAST, overwrite=True)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene_00011"]


@pytest.mark.parametrize("kw, field", [({"num_frames": 0}, "--frames"), ({"width": 10, "height": 10000}, "--size"),
                                       ({"width": 641}, "--size"), ({"fps": 0.0}, "--fps"),
                                       ({"renderer": "vulkan"}, "--renderer")])
def test_config_rejects_impossible_values_with_one_line(kw, field):
    with pytest.raises(InputError) as exc:
        SynthConfig(**kw).validate()
    assert field in str(exc.value) and "\n" not in str(exc.value)


def _cli(argv, capsys):
    from spatialmem.cli import main

    rc = main(argv)
    err = capsys.readouterr().err
    return rc, " ".join(err.split())


@pytest.mark.parametrize("args, needle", [(["--frames", "0"], "--frames"), (["--size", "10x10000"], "--size"),
                                          (["--size", "big"], "--size"), (["--scenes", "0"], "--scenes"),
                                          (["--renderer", "vulkan"], "--renderer"), (["--bogus"], "--bogus")])
def test_cli_bad_values_exit_nonzero(tmp_path, capsys, args, needle):
    rc, err = _cli(["synth", "--out", str(tmp_path / "o"), *args], capsys)
    assert rc != 0 and needle in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_cli_refuses_existing_folder_without_overwrite(tmp_path, capsys):
    write_scene(tmp_path, 5, FAST)
    rc, err = _cli(["synth", "--out", str(tmp_path), "--seed", "5", "--frames", "10", "--size", "64x48"], capsys)
    assert rc != 0 and "already exists" in err and "--overwrite" in err


def test_cli_writes_k_scenes_with_consecutive_seeds(tmp_path, capsys):
    rc, _ = _cli(["synth", "--out", str(tmp_path), "--seed", "20", "--scenes", "2", "--frames", "4", "--size",
                  "48x36"], capsys)
    assert rc == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene_00020", "scene_00021"]


def test_failed_final_rename_restores_the_old_scene(tmp_path, monkeypatch):
    import os

    path = write_scene(tmp_path, 11, FAST)
    before = _digest(path)
    real_replace = os.replace

    def flaky(src, dst):
        if ".partial-" in os.fspath(src):  # the move of the new scene into place
            raise OSError("rename failed (simulated)")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="simulated"):
        write_scene(tmp_path, 11, FAST, overwrite=True)
    monkeypatch.setattr(os, "replace", real_replace)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene_00011"]


def test_stale_partial_folder_of_a_dead_run_is_removed(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".scene_00011.partial-{int(dead.stdout)}-0123abcd"
    (stale / "rgb").mkdir(parents=True)
    write_scene(tmp_path, 11, FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene_00011"]


def test_seed_range_includes_the_last_seed():
    from spatialmem.commands.synth import check_seed_range

    check_seed_range(99999, 1)
    check_seed_range(99998, 2)
    check_seed_range(0, 1)
    for seed, scenes in ((99999, 2), (-1, 1), (99990, 11)):
        with pytest.raises(InputError, match="--seed"):
            check_seed_range(seed, scenes)
    with pytest.raises(InputError, match="--scenes"):
        check_seed_range(0, 0)


def test_cli_accepts_the_largest_seed(tmp_path, capsys):
    rc, err = _cli(["synth", "--out", str(tmp_path), "--seed", "99999", "--scenes", "1", "--frames", "2", "--size",
                    "16x16"], capsys)
    assert rc == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene_99999"]
