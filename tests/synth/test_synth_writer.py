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
    real = writer._save_png16

    def failing(path, arr):
        calls["n"] += 1
        if calls["n"] == 7:
            raise OSError("disk full (simulated)")
        real(path, arr)

    monkeypatch.setattr(writer, "_save_png16", failing)
    with pytest.raises(OSError, match="simulated"):
        write_scene(tmp_path, 11, FAST)
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_scene(tmp_path, monkeypatch):
    path = write_scene(tmp_path, 11, FAST)
    before = _digest(path)

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_save_jpeg", boom)
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
