"""On-disk persistence of a :class:`~spatialmem.memory.scene.SceneMemory` (save / load a memory directory).

A memory is a directory::

    MEM/
      memory.sqlite            SQLite database (tables below)
      arrays/
        points_world.npy       (P, 3) scene point cloud            (only when P > 0)
        colors_rgb.npy         (P, 3) its colours                   (only when P > 0)
        instance_000007_points.npy   fused points of instance 7     (only when it has points)
        instance_000007_feature.npy  its feature vector             (only when it has one)
        keyframe_0003.png      keyframe 3's rgb (uint8 (H, W, 3); any other array goes to keyframe_0003.npy)

Tables: ``meta(key, value)`` with rows ``format``, ``schema_version``, ``scene_id``, ``metadata`` (JSON),
``created`` (ISO-8601 UTC); ``instances``; ``keyframes``; ``cameras``; ``room`` (zero or one row).
Small arrays (box axes, poses, the floor polygon) are stored as JSON ``{"dtype", "shape", "data"}``
(Python's float repr round-trips float64 exactly); scalar floats are SQLite REALs (IEEE float64).
The round trip is lossless: every array comes back with the same dtype, shape and bits.

Writes are atomic: everything is written into a temporary directory beside the target, then
renamed into place (an existing memory is first renamed aside and removed only after the new one
is in place). Loads never modify anything (the database is opened read-only) and raise
:class:`~spatialmem.errors.StoreError` naming the offending file.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from PIL import Image

from spatialmem.errors import InputError, StoreError
from spatialmem.fsutil import swap_into_place, sweep_stale_partials, temp_sibling
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory import measure
from spatialmem.memory.scene import CameraRecord, Keyframe, ObjectInstance, Room, SceneMemory
from spatialmem.types import Intrinsics

SCHEMA_VERSION = 2
# 1: every box upright (axes[2] = +z); 2: boxes keep any 3-DoF rotation (tilted imported annotations).
# The tables are the same, so a version-1 memory loads unchanged; an older spatialmem refuses version 2
# instead of mis-reading a tilted box as upright.
READABLE_SCHEMA_VERSIONS = (1, 2)
FORMAT_NAME = "spatialmem-memory"
DB_NAME = "memory.sqlite"
ARRAYS_DIR = "arrays"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE instances (
    id INTEGER PRIMARY KEY, category TEXT NOT NULL,
    center TEXT NOT NULL, size TEXT NOT NULL, axes TEXT NOT NULL,
    first_seen_s REAL, last_seen_s REAL, n_observations INTEGER NOT NULL,
    keyframe_indices TEXT NOT NULL, n_points INTEGER NOT NULL,
    points_file TEXT, feature_file TEXT);
CREATE TABLE cameras (
    seq INTEGER PRIMARY KEY, frame_index INTEGER NOT NULL, timestamp_s REAL NOT NULL,
    world_from_camera TEXT NOT NULL, intrinsics TEXT NOT NULL);
CREATE TABLE keyframes (
    seq INTEGER PRIMARY KEY, frame_index INTEGER NOT NULL, timestamp_s REAL NOT NULL,
    world_from_camera TEXT NOT NULL, intrinsics TEXT NOT NULL,
    rgb_file TEXT NOT NULL, instance_ids TEXT NOT NULL);
CREATE TABLE room (
    floor_z REAL NOT NULL, area_m2 REAL NOT NULL, ceiling_z REAL, floor_polygon TEXT NOT NULL);
"""


# ---------------------------------------------------------------------------- small encoders
def _arr_to_json(a: np.ndarray) -> str:
    a = np.asarray(a)
    return json.dumps({"dtype": a.dtype.str, "shape": list(a.shape), "data": a.ravel().tolist()})


def _arr_from_json(text: str, shape: tuple[int, ...] | None = None, where: str = "array") -> np.ndarray:
    """Decode an array; with ``shape`` (-1 = any length) it must have that shape and only finite numbers."""
    d = json.loads(text)
    a = np.array(d["data"], dtype=np.dtype(d["dtype"])).reshape(d["shape"])
    if shape is not None:
        if a.ndim != len(shape) or any(want not in (-1, got) for want, got in zip(shape, a.shape)):
            raise ValueError(f"{where}: expected shape {shape}, found {a.shape}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError(f"{where}: contains a value that is not a finite number")
    return a


def _finite(v: Any, where: str, *, optional: bool = False, minimum: float | None = None) -> float | None:
    """``v`` as a finite float (None allowed when ``optional``); ValueError naming ``where`` otherwise."""
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise ValueError(f"{where}: expected a finite number, found {v!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{where}: expected a number >= {minimum:g}, found {v!r}")
    return float(v)


def _int_list(text: str, where: str) -> tuple[int, ...]:
    """A JSON list of integers (e.g. keyframe indices); ValueError for anything else (1e999, NaN, text)."""
    values = json.loads(text)
    if not isinstance(values, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**63 for v in values):
        raise ValueError(f"{where}: expected a list of integers, found {text[:80]}")
    return tuple(values)


def json_default(o: Any) -> Any:
    """``json.dumps(default=...)`` for metadata: numpy arrays and scalars, sets, paths."""
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"metadata value of type {type(o).__name__} is not JSON-serialisable")


def _opt_float(v: float | None) -> float | None:
    return None if v is None else float(v)


def write_npy(path: Path, array: np.ndarray) -> None:
    """Write one array file (a separate function so tests can simulate a failure mid-save)."""
    with open(path, "wb") as f:
        np.save(f, np.asarray(array), allow_pickle=False)


def _write_png(path: Path, rgb: np.ndarray) -> None:
    Image.fromarray(np.ascontiguousarray(rgb), mode="RGB").save(path, format="PNG", compress_level=1)


# ---------------------------------------------------------------------------- save
def save_memory(memory: SceneMemory, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write ``memory`` to the directory ``path`` atomically.

    Args:
        memory: the snapshot to store.
        path: target directory. Its parent is created if needed.
        overwrite: replace an existing memory directory at ``path``; when False an existing path
            raises :class:`InputError`. A non-empty directory that is not a memory is never replaced.

    Returns:
        The target path.

    Raises:
        InputError: the target exists and may not be replaced.
        StoreError: writing failed (the previous content of ``path`` is left as it was).
    """
    target = Path(path)
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise InputError(f"{target} already exists; pass --overwrite to replace it")
        if not target.is_dir():
            raise InputError(f"{target} exists and is not a directory; choose another output path")
        if any(target.iterdir()) and not (target / DB_NAME).is_file():
            raise InputError(
                f"{target} is a non-empty directory that is not a spatialmem memory (no {DB_NAME}); "
                "refusing to replace it, choose another output path"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_partials(target.parent)
    tmp = temp_sibling(target)
    try:
        tmp.mkdir()
        _write_dir(memory, tmp)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, (OSError, sqlite3.Error, ValueError, TypeError)):
            raise StoreError(f"could not write memory {target}: {exc}") from exc
        raise
    try:
        swap_into_place(tmp, target)
    except OSError as exc:
        raise StoreError(f"could not move the new memory into place at {target}: {exc}") from exc
    return target


def _write_dir(memory: SceneMemory, root: Path) -> None:
    arrays = root / ARRAYS_DIR
    arrays.mkdir()
    if len(memory.points_world):
        write_npy(arrays / "points_world.npy", memory.points_world)
    if len(memory.colors_rgb):
        write_npy(arrays / "colors_rgb.npy", memory.colors_rgb)

    inst_rows = []
    for inst in memory.instances:
        pts_file = feat_file = None
        if inst.points_world is not None and len(inst.points_world):
            pts_file = f"{ARRAYS_DIR}/instance_{inst.id:06d}_points.npy"
            write_npy(root / pts_file, inst.points_world)
        if inst.feature is not None:
            feat_file = f"{ARRAYS_DIR}/instance_{inst.id:06d}_feature.npy"
            write_npy(root / feat_file, inst.feature)
        n_pts = 0 if inst.points_world is None else int(len(inst.points_world))
        inst_rows.append((
            int(inst.id), str(inst.category), _arr_to_json(inst.box.center), _arr_to_json(inst.box.size),
            _arr_to_json(inst.box.axes), _opt_float(inst.first_seen_s), _opt_float(inst.last_seen_s),
            int(inst.n_observations), json.dumps([int(k) for k in inst.keyframe_indices]), n_pts, pts_file, feat_file,
        ))

    kf_rows = []
    for seq, kf in enumerate(memory.keyframes):
        rgb = np.asarray(kf.rgb)
        if rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3:
            rgb_file = f"{ARRAYS_DIR}/keyframe_{seq:04d}.png"
            _write_png(root / rgb_file, rgb)
        else:
            rgb_file = f"{ARRAYS_DIR}/keyframe_{seq:04d}.npy"
            write_npy(root / rgb_file, rgb)
        kf_rows.append((
            seq, int(kf.frame_index), float(kf.timestamp_s), _arr_to_json(kf.world_from_camera),
            json.dumps(kf.intrinsics.to_dict()), rgb_file, json.dumps([int(i) for i in kf.instance_ids]),
        ))

    cam_rows = [
        (seq, int(c.frame_index), float(c.timestamp_s), _arr_to_json(c.world_from_camera),
         json.dumps(c.intrinsics.to_dict()))
        for seq, c in enumerate(memory.cameras)
    ]
    meta_rows = [
        ("format", FORMAT_NAME),
        ("schema_version", str(SCHEMA_VERSION)),
        ("scene_id", str(memory.scene_id)),
        ("metadata", json.dumps(memory.metadata, default=json_default)),
        ("created", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")),
    ]

    con = sqlite3.connect(root / DB_NAME)
    try:
        con.executescript(_SCHEMA)
        con.executemany("INSERT INTO meta VALUES (?, ?)", meta_rows)
        con.executemany("INSERT INTO instances VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", inst_rows)
        con.executemany("INSERT INTO cameras VALUES (?,?,?,?,?)", cam_rows)
        con.executemany("INSERT INTO keyframes VALUES (?,?,?,?,?,?,?)", kf_rows)
        if memory.room is not None:
            r = memory.room
            con.execute(
                "INSERT INTO room VALUES (?,?,?,?)",
                (float(r.floor_z), float(r.area_m2), _opt_float(r.ceiling_z), _arr_to_json(r.floor_polygon)),
            )
        con.commit()
    finally:
        con.close()


# ---------------------------------------------------------------------------- load
def is_memory_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` is a directory holding a memory database (not validated further)."""
    return (Path(path) / DB_NAME).is_file()


def load_memory(path: str | os.PathLike) -> SceneMemory:
    """Read a memory directory written by :func:`save_memory`. Nothing on disk is modified.

    Raises:
        StoreError: naming the file, when the directory or database is missing, the database is
            corrupted or not a memory, it comes from a newer schema version, or an array file is
            missing or unreadable.
    """
    root = Path(path)
    if not root.is_dir():
        raise StoreError(f"{root}: no such memory directory (create one with `spatialmem ingest` or "
                         "`spatialmem import-annotations`)")
    db = root / DB_NAME
    if not db.is_file():
        raise StoreError(f"{db}: missing; {root} is not a spatialmem memory directory")
    uri = f"file:{quote(str(db.resolve()))}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{db}: cannot open the memory database ({exc})") from exc
    try:
        memory = _read(con, root, db)
        measure.prepare(memory)  # distance geometry now, not on the first question (docs/architecture.md)
        return memory
    except sqlite3.Error as exc:
        raise StoreError(f"{db}: corrupted or not a memory database ({exc}); re-create the memory") from exc
    except (KeyError, ValueError, TypeError, OverflowError, json.JSONDecodeError) as exc:
        raise StoreError(f"{db}: malformed content ({type(exc).__name__}: {exc}); re-create the memory") from exc
    except RecursionError:
        raise StoreError(f"{db}: malformed content (JSON nested too deeply); re-create the memory") from None
    finally:
        con.close()


def _read(con: sqlite3.Connection, root: Path, db: Path) -> SceneMemory:
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("format") != FORMAT_NAME:
        raise StoreError(f"{db}: not a spatialmem memory database (format {meta.get('format')!r})")
    try:
        version = int(meta["schema_version"])
    except (KeyError, ValueError):
        raise StoreError(f"{db}: missing or invalid schema_version in table meta") from None
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{db}: written by a newer spatialmem (memory schema version {version}; this version reads up to "
            f"{SCHEMA_VERSION}); upgrade spatialmem to load it"
        )
    if version not in READABLE_SCHEMA_VERSIONS:
        raise StoreError(f"{db}: invalid schema_version {version}")

    instances = []
    for (iid, cat, center, size, axes, fs, ls, nobs, kfi, n_pts, pfile, ffile) in con.execute(
        "SELECT id, category, center, size, axes, first_seen_s, last_seen_s, n_observations, keyframe_indices, "
        "n_points, points_file, feature_file FROM instances ORDER BY id"
    ):
        where = f"instance {iid}"
        size_m = _arr_from_json(size, (3,), f"{where} size")
        if not (size_m >= 0).all():
            raise ValueError(f"{where} size: box sizes must be >= 0, found {size_m.tolist()}")
        box = OrientedBox(_arr_from_json(center, (3,), f"{where} center"), size_m,
                          _arr_from_json(axes, (3, 3), f"{where} axes"))
        if not np.allclose(box.axes @ box.axes.T, np.eye(3), atol=1e-6):
            raise ValueError(f"{where} axes: box axes are not orthonormal")
        fs = _finite(fs, f"{where} first_seen_s", optional=True)
        ls = _finite(ls, f"{where} last_seen_s", optional=True)
        if pfile:
            pts = _load_npy(root, pfile)
            if pts.ndim != 2 or pts.shape != (n_pts, 3):
                raise StoreError(f"{root / pfile}: expected ({n_pts}, 3) points, found shape {pts.shape}")
            if not np.isfinite(pts).all():
                raise StoreError(f"{root / pfile}: contains points that are not finite numbers; re-create the memory")
        else:
            pts = np.zeros((0, 3), np.float32)
        feat = _load_npy(root, ffile) if ffile else None
        instances.append(ObjectInstance(
            id=int(iid), category=cat, box=box, points_world=pts, first_seen_s=fs, last_seen_s=ls,
            n_observations=int(nobs), keyframe_indices=_int_list(kfi, f"{where} keyframe_indices"), feature=feat,
        ))

    cameras = tuple(
        CameraRecord(int(fi), _finite(ts, f"camera {seq} timestamp_s"),
                     _arr_from_json(pose, (4, 4), f"camera {seq} pose"), Intrinsics.from_dict(json.loads(intr)))
        for seq, (fi, ts, pose, intr) in enumerate(con.execute(
            "SELECT frame_index, timestamp_s, world_from_camera, intrinsics FROM cameras ORDER BY seq"
        ))
    )
    keyframes = []
    for fi, ts, pose, intr, rgb_file, ids in con.execute(
        "SELECT frame_index, timestamp_s, world_from_camera, intrinsics, rgb_file, instance_ids "
        "FROM keyframes ORDER BY seq"
    ):
        rgb = _load_png(root, rgb_file) if rgb_file.endswith(".png") else _load_npy(root, rgb_file)
        keyframes.append(Keyframe(
            int(fi), _finite(ts, f"keyframe {fi} timestamp_s"), _arr_from_json(pose, (4, 4), f"keyframe {fi} pose"),
            Intrinsics.from_dict(json.loads(intr)), rgb, _int_list(ids, f"keyframe {fi} instance_ids"),
        ))

    room = None
    rows = con.execute("SELECT floor_z, area_m2, ceiling_z, floor_polygon FROM room").fetchall()
    if len(rows) > 1:
        raise StoreError(f"{db}: table room has {len(rows)} rows, expected at most one")
    if rows:
        fz, area, cz, poly = rows[0]
        floor_z = _finite(fz, "room floor_z")
        ceiling_z = _finite(cz, "room ceiling_z", optional=True)
        if ceiling_z is not None and floor_z is not None and ceiling_z <= floor_z:
            raise ValueError(f"room: ceiling_z {ceiling_z:g} is not above floor_z {floor_z:g}")
        room = Room(float(fz), _arr_from_json(poly, (-1, 2), "room floor_polygon"),
                    _finite(area, "room area_m2", minimum=0.0), ceiling_z)

    points = _load_npy(root, f"{ARRAYS_DIR}/points_world.npy", optional=True)
    if points is not None and (points.ndim != 2 or points.shape[1:] != (3,) or not np.isfinite(points).all()):
        raise StoreError(f"{root / ARRAYS_DIR / 'points_world.npy'}: expected (P, 3) finite points; "
                         "re-create the memory")
    colors = _load_npy(root, f"{ARRAYS_DIR}/colors_rgb.npy", optional=True)
    return SceneMemory(
        scene_id=meta["scene_id"],
        instances=tuple(instances),
        cameras=cameras,
        keyframes=tuple(keyframes),
        room=room,
        points_world=np.zeros((0, 3), np.float32) if points is None else points,
        colors_rgb=np.zeros((0, 3), np.uint8) if colors is None else colors,
        metadata=json.loads(meta.get("metadata", "{}")),
    )


def _checked_path(root: Path, rel: str) -> Path:
    p = root / rel
    if Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise StoreError(f"{root / DB_NAME}: array path {rel!r} points outside the memory directory")
    return p


def _load_npy(root: Path, rel: str, optional: bool = False) -> np.ndarray | None:
    p = _checked_path(root, rel)
    if not p.is_file():
        if optional:
            return None
        raise StoreError(f"{p}: missing array file of memory {root}; the memory is incomplete, re-create it")
    try:
        with open(p, "rb") as f:
            return np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise StoreError(f"{p}: unreadable array file ({exc}); re-create the memory") from exc


def _load_png(root: Path, rel: str) -> np.ndarray:
    p = _checked_path(root, rel)
    if not p.is_file():
        raise StoreError(f"{p}: missing keyframe image of memory {root}; the memory is incomplete, re-create it")
    try:
        data = p.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            return np.array(im.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise StoreError(f"{p}: unreadable keyframe image ({exc}); re-create the memory") from exc
