"""``spatialmem ingest A B C --out DIR``: one memory per source on an executor; failures listed, never hidden."""

from __future__ import annotations

from spatialmem.cli import main
from spatialmem.memory.store import is_memory_dir, load_memory


def test_several_sources_give_one_memory_each_and_a_bad_one_is_reported(bench_layout, tmp_path, capsys):
    scenes = [bench_layout / "scannet" / f"scene_0000{i}" for i in (1, 2)]
    out = tmp_path / "mems"
    code = main(["ingest", *map(str, scenes), str(tmp_path / "missing"), "--out", str(out), "--workers", "2"])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 of 3 source(s) failed: missing" in captured.err
    assert "missing: FAILED: source" in captured.out and "does not exist" in captured.out
    for scene in scenes:
        assert is_memory_dir(out / scene.name)
        assert len(load_memory(out / scene.name).instances) > 0
        assert "wrote" in (out / f"{scene.name}.log").read_text(encoding="utf-8")
    assert "does not exist" in (out / "missing.log").read_text(encoding="utf-8")


def test_several_sources_need_distinct_names_and_a_folder(bench_layout, tmp_path, capsys):
    scene = bench_layout / "scannet" / "scene_00001"
    assert main(["ingest", str(scene), str(scene), "--out", str(tmp_path / "o")]) == 2
    assert "same memory name (scene_00001)" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["ingest", str(scene), str(bench_layout / "scannet" / "scene_00002"), "--out",
                 str(tmp_path / "file")]) == 2
    assert "must be a folder" in capsys.readouterr().err
