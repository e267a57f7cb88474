"""Memory store: lossless round trip, atomic writes, and the bad-input paths of load_memory."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

from spatialmem.errors import InputError, StoreError
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory import store
from spatialmem.memory.scene import CameraRecord, Keyframe, ObjectInstance, Room, SceneMemory
from spatialmem.memory.store import DB_NAME, load_memory, save_memory
from spatialmem.types import Intrinsics


def make_memory(seed: int = 0) -> SceneMemory:
    rng = np.random.default_rng(seed)
    intr = Intrinsics(525.123456789, 524.9, 319.5, 239.5, 640, 480)
    small = intr.scaled(64, 48)
    insts = []
    for i in range(1, 4):
        insts.append(ObjectInstance(
            id=i * 2,
            category=["chair", "trash bin", "tv"][i - 1],
            box=OrientedBox.from_yaw(rng.normal(size=3), rng.uniform(0.1, 2.0, 3), rng.uniform(-3, 3)),
            points_world=rng.normal(size=(10 * i, 3)).astype(np.float32),
            first_seen_s=None if i == 2 else float(rng.uniform(0, 10)),
            last_seen_s=float(rng.uniform(10, 20)),
            n_observations=7 * i,
            keyframe_indices=(3, 1) if i != 3 else (),
            feature=rng.normal(size=16).astype(np.float32) if i == 1 else None,
        ))
    insts.append(ObjectInstance(id=9, category="door", box=OrientedBox.axis_aligned([0, 0, 0], [1, 0.1, 2])))
    cams = tuple(
        CameraRecord(k, k / 30.0 + 1e-13, np.eye(4) + np.pad(rng.normal(size=(3, 1)), ((0, 1), (3, 0))), intr)
        for k in range(5)
    )
    kfs = tuple(
        Keyframe(k, k / 30.0, cams[k].world_from_camera, small, rng.integers(0, 256, (48, 64, 3), dtype=np.uint8),
                 (2, 4))
        for k in (1, 3)
    )
    poly = np.array([[0.0, 0.0], [4.1, 0.0], [4.1, 3.3], [0.0, 3.3]]) + rng.normal(scale=1e-9, size=(4, 2))
    room = Room(floor_z=1e-17, floor_polygon=poly, area_m2=13.53 + 1e-12, ceiling_z=2.7)
    pts = rng.normal(size=(500, 3)).astype(np.float32)
    cols = rng.integers(0, 256, (500, 3), dtype=np.uint8)
    meta = {"source": "/x/scene_00003", "n_frames": 5, "builder": {"window": 8, "keyframes": 32},
            "f": 0.1 + 0.2, "notes": ["a", "ü"]}
    return SceneMemory("scene_00003", tuple(insts), cams, kfs, room, pts, cols, meta)


def assert_same(a: SceneMemory, b: SceneMemory) -> None:
    def same(x, y):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)

    assert a.scene_id == b.scene_id and a.metadata == b.metadata
    assert len(a.instances) == len(b.instances)
    for i, j in zip(a.instances, b.instances):
        assert (i.id, i.category, i.first_seen_s, i.last_seen_s, i.n_observations, i.keyframe_indices) == (
            j.id, j.category, j.first_seen_s, j.last_seen_s, j.n_observations, j.keyframe_indices)
        for f in ("center", "size", "axes"):
            same(getattr(i.box, f), getattr(j.box, f))
        same(i.points_world, j.points_world)
        assert (i.feature is None) == (j.feature is None)
        if i.feature is not None:
            same(i.feature, j.feature)
    assert len(a.cameras) == len(b.cameras) and len(a.keyframes) == len(b.keyframes)
    for c, d in zip(a.cameras, b.cameras):
        assert (c.frame_index, c.timestamp_s, c.intrinsics) == (d.frame_index, d.timestamp_s, d.intrinsics)
        same(c.world_from_camera, d.world_from_camera)
    for k, m in zip(a.keyframes, b.keyframes):
        assert (k.frame_index, k.timestamp_s, k.intrinsics, k.instance_ids) == (
            m.frame_index, m.timestamp_s, m.intrinsics, m.instance_ids)
        same(k.world_from_camera, m.world_from_camera)
        same(k.rgb, m.rgb)
    assert (a.room is None) == (b.room is None)
    if a.room is not None:
        assert (a.room.floor_z, a.room.area_m2, a.room.ceiling_z) == (b.room.floor_z, b.room.area_m2, b.room.ceiling_z)
        same(a.room.floor_polygon, b.room.floor_polygon)
    same(a.points_world, b.points_world)
    same(a.colors_rgb, b.colors_rgb)


def snapshot_files(root) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def test_round_trip_is_lossless(tmp_path):
    mem = make_memory()
    save_memory(mem, tmp_path / "mem")
    assert_same(mem, load_memory(tmp_path / "mem"))
    assert (tmp_path / "mem" / DB_NAME).is_file()


def test_round_trip_of_empty_memory(tmp_path):
    mem = SceneMemory("empty")
    save_memory(mem, tmp_path / "m")
    back = load_memory(tmp_path / "m")
    assert_same(mem, back)
    assert back.room is None and back.points_world.shape == (0, 3)


def test_round_trip_of_non_png_keyframe(tmp_path):
    mem = make_memory()
    kf = mem.keyframes[0]
    odd = Keyframe(kf.frame_index, kf.timestamp_s, kf.world_from_camera, kf.intrinsics,
                   np.random.default_rng(1).random((48, 64, 3), dtype=np.float32))
    mem2 = SceneMemory(mem.scene_id, mem.instances, mem.cameras, (odd,), mem.room, mem.points_world,
                       mem.colors_rgb, mem.metadata)
    save_memory(mem2, tmp_path / "m")
    assert_same(mem2, load_memory(tmp_path / "m"))


def test_overwrite_replaces_existing_memory_and_leaves_no_temp(tmp_path):
    save_memory(make_memory(0), tmp_path / "mem")
    new = make_memory(1)
    save_memory(new, tmp_path / "mem")
    assert_same(new, load_memory(tmp_path / "mem"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mem"]


def test_overwrite_false_refuses(tmp_path):
    save_memory(make_memory(0), tmp_path / "mem")
    before = snapshot_files(tmp_path / "mem")
    with pytest.raises(InputError, match="--overwrite"):
        save_memory(make_memory(1), tmp_path / "mem", overwrite=False)
    assert snapshot_files(tmp_path / "mem") == before


def test_never_replaces_a_directory_that_is_not_a_memory(tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("do not delete")
    with pytest.raises(InputError, match="not a spatialmem memory"):
        save_memory(make_memory(), tmp_path / "precious")
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "do not delete"


def test_failure_mid_save_keeps_previous_memory(tmp_path, monkeypatch):
    old = make_memory(0)
    save_memory(old, tmp_path / "mem")
    before = snapshot_files(tmp_path / "mem")
    calls = {"n": 0}
    real = store.write_npy

    def flaky(path, array):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real(path, array)

    monkeypatch.setattr(store, "write_npy", flaky)
    with pytest.raises(StoreError, match="No space left"):
        save_memory(make_memory(1), tmp_path / "mem")
    assert calls["n"] == 3
    assert snapshot_files(tmp_path / "mem") == before
    assert_same(old, load_memory(tmp_path / "mem"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mem"]  # no temp dir left


def test_failed_rename_into_place_keeps_previous_memory(tmp_path, monkeypatch):
    old = make_memory(0)
    save_memory(old, tmp_path / "mem")
    before = snapshot_files(tmp_path / "mem")
    real = os.replace

    def flaky(src, dst):
        if ".partial-" in os.fspath(src):
            raise OSError(18, "Invalid cross-device link")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(StoreError, match="into place"):
        save_memory(make_memory(1), tmp_path / "mem")
    monkeypatch.setattr(os, "replace", real)
    assert snapshot_files(tmp_path / "mem") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mem"]


def test_interrupt_mid_save_leaves_no_temp_and_no_target(tmp_path, monkeypatch):
    def boom(path, array):
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "write_npy", boom)
    with pytest.raises(KeyboardInterrupt):
        save_memory(make_memory(), tmp_path / "mem")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def saved(tmp_path):
    save_memory(make_memory(), tmp_path / "mem")
    return tmp_path / "mem"


def test_newer_schema_version_raises_and_modifies_nothing(saved):
    con = sqlite3.connect(saved / DB_NAME)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(store.SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    before = snapshot_files(saved)
    with pytest.raises(StoreError, match="newer") as e:
        load_memory(saved)
    assert str(saved / DB_NAME) in str(e.value)
    assert snapshot_files(saved) == before


def test_corrupted_database_raises_naming_the_file(saved):
    (saved / DB_NAME).write_bytes(b"this is not sqlite at all \x00\xff" * 100)
    before = snapshot_files(saved)
    with pytest.raises(StoreError) as e:
        load_memory(saved)
    assert str(saved / DB_NAME) in str(e.value)
    assert snapshot_files(saved) == before
    assert sorted(p.name for p in saved.iterdir()) == sorted(["arrays", DB_NAME])  # no journal created


def test_truncated_database_raises(saved):
    data = (saved / DB_NAME).read_bytes()
    (saved / DB_NAME).write_bytes(data[: len(data) // 3])
    before = snapshot_files(saved)
    with pytest.raises(StoreError, match=DB_NAME):
        load_memory(saved)
    assert snapshot_files(saved) == before


def test_missing_database_raises(saved):
    os.remove(saved / DB_NAME)
    with pytest.raises(StoreError, match="memory.sqlite: missing"):
        load_memory(saved)


def test_missing_directory_raises(tmp_path):
    with pytest.raises(StoreError, match="no such memory directory"):
        load_memory(tmp_path / "nope")


@pytest.mark.parametrize("victim", ["instance_000002_points.npy", "keyframe_0001.png", "instance_000002_feature.npy"])
def test_missing_array_file_raises_naming_it(saved, victim):
    os.remove(saved / "arrays" / victim)
    before = snapshot_files(saved)
    with pytest.raises(StoreError) as e:
        load_memory(saved)
    assert victim in str(e.value) and "missing" in str(e.value)
    assert snapshot_files(saved) == before


def test_garbage_array_file_raises_naming_it(saved):
    (saved / "arrays" / "points_world.npy").write_bytes(b"garbage")
    with pytest.raises(StoreError, match="points_world.npy"):
        load_memory(saved)


def test_wrong_points_shape_raises(saved):
    np.save(saved / "arrays" / "instance_000004_points.npy", np.zeros((3, 3), np.float32))
    with pytest.raises(StoreError, match=r"instance_000004_points.npy: expected \(20, 3\)"):
        load_memory(saved)


def test_load_modifies_nothing(saved):
    before = snapshot_files(saved)
    load_memory(saved)
    load_memory(saved)
    assert snapshot_files(saved) == before
    assert sorted(p.name for p in saved.iterdir()) == sorted(["arrays", DB_NAME])


def test_database_of_another_program_is_rejected(tmp_path):
    (tmp_path / "m").mkdir()
    con = sqlite3.connect(tmp_path / "m" / DB_NAME)
    con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('format', 'something-else')")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a spatialmem memory database"):
        load_memory(tmp_path / "m")


def test_save_creates_parents_and_refuses_a_file_target(tmp_path):
    save_memory(make_memory(), tmp_path / "a" / "b" / "mem")
    assert store.is_memory_dir(tmp_path / "a" / "b" / "mem")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        save_memory(make_memory(), tmp_path / "file")
    assert (tmp_path / "file").read_text() == "x"


def test_unserialisable_metadata_raises_store_error_and_writes_nothing(tmp_path):
    m = make_memory()
    bad = SceneMemory(m.scene_id, m.instances, metadata={"x": object()})
    with pytest.raises(StoreError, match="not JSON-serialisable"):
        save_memory(bad, tmp_path / "mem")
    assert list(tmp_path.iterdir()) == []


def _tilted(rng) -> OrientedBox:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    return OrientedBox(rng.normal(size=3), rng.uniform(0.1, 2.0, 3), q)


def test_tilted_box_rotation_round_trips_bit_for_bit(tmp_path):
    rng = np.random.default_rng(5)
    base = make_memory()
    boxes = [_tilted(rng) for _ in base.instances]
    mem = SceneMemory(base.scene_id, tuple(ObjectInstance(i.id, i.category, b) for i, b in zip(base.instances, boxes)))
    save_memory(mem, tmp_path / "mem")
    back = load_memory(tmp_path / "mem")
    for a, b in zip(mem.instances, back.instances):
        assert np.array_equal(a.box.axes, b.box.axes) and np.array_equal(a.box.size, b.box.size)
        assert not b.box.is_gravity_aligned()


def test_schema_version_1_memories_still_load(saved):
    con = sqlite3.connect(saved / DB_NAME)
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    assert_same(load_memory(saved), make_memory())
    assert store.SCHEMA_VERSION == 2
