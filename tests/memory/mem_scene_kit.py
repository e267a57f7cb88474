"""Tiny analytic box worlds for the memory-builder tests (ray-cast, exact depth and instance ids).

Not a test module: test_mem_*.py files load it by path (the suite runs with --import-mode=importlib).
A world is a room (floor polygon, ceiling height) plus yawed boxes with ids and categories; frames
are ray-cast exactly: depth along the optical axis, instance id 0 for room structure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.geometry.se3 import look_at
from spatialmem.types import Frame, Intrinsics

RECT = np.array([[0.0, 0.0], [5.0, 0.0], [5.0, 4.0], [0.0, 4.0]])
L_SHAPE = np.array([[0.0, 0.0], [6.0, 0.0], [6.0, 3.0], [3.0, 3.0], [3.0, 6.0], [0.0, 6.0]])


@dataclass
class World:
    polygon: np.ndarray = field(default_factory=lambda: RECT.copy())
    height: float = 2.6
    boxes: list[tuple[int, str, OrientedBox]] = field(default_factory=list)

    def add(self, iid: int, category: str, center, size, yaw: float = 0.0) -> None:
        self.boxes.append((iid, category, OrientedBox.from_yaw(center, size, yaw)))

    @property
    def labels(self) -> dict[int, str]:
        return {i: c for i, c, _ in self.boxes}


def cast(world: World, K: Intrinsics, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(depth_m (H, W) float32, ids (H, W) int32) of an exact ray cast."""
    u, v = np.meshgrid(np.arange(K.width), np.arange(K.height))
    rc = np.stack([(u - K.cx) / K.fx, (v - K.cy) / K.fy, np.ones_like(u, float)], -1).reshape(-1, 3)
    R, o = pose[:3, :3], pose[:3, 3]
    d = rc @ R.T  # world direction per unit depth
    best = np.full(len(d), np.inf)
    ids = np.zeros(len(d), np.int32)
    with np.errstate(divide="ignore", invalid="ignore"):
        for zp in (0.0, world.height):  # floor and ceiling
            t = (zp - o[2]) / d[:, 2]
            ok = (t > 1e-6) & (t < best)
            best[ok] = t[ok]
        poly = world.polygon
        for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
            e = b - a
            den = d[:, 0] * e[1] - d[:, 1] * e[0]
            w = a - o[:2]
            t = (w[0] * e[1] - w[1] * e[0]) / den
            s = (w[0] * d[:, 1] - w[1] * d[:, 0]) / den
            z = o[2] + t * d[:, 2]
            ok = (t > 1e-6) & (s >= 0) & (s <= 1) & (z >= 0) & (z <= world.height) & (t < best)
            best[ok] = t[ok]
        for iid, _, box in world.boxes:
            lo_ = box.to_local(o[None])[0]
            dl = d @ box.axes.T
            h = box.size / 2
            t1, t2 = (-h - lo_) / dl, (h - lo_) / dl
            tn = np.nanmax(np.minimum(t1, t2), axis=1)
            tf = np.nanmin(np.maximum(t1, t2), axis=1)
            ok = (tn <= tf) & (tn > 1e-6) & (tn < best)
            best[ok] = tn[ok]
            ids[ok] = iid
    depth = np.where(np.isfinite(best), best, 0.0).astype(np.float32).reshape(K.height, K.width)
    return depth, ids.reshape(K.height, K.width)


def orbit_poses(center_xy, radius: float, n: int, height: float = 1.4, target_z: float = 0.5,
                start: float = 0.0, span: float = 2 * np.pi, look=None) -> list[np.ndarray]:
    """Cameras on a circle around ``center_xy`` looking at ``look`` (default: the centre at target_z)."""
    out = []
    for k in range(n):
        a = start + span * k / max(1, n)
        eye = [center_xy[0] + radius * np.cos(a), center_xy[1] + radius * np.sin(a), height]
        tgt = look if look is not None else [center_xy[0], center_xy[1], target_z]
        out.append(look_at(eye, tgt))
    return out


def colour(ids: np.ndarray, depth: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    pal = rng.integers(30, 230, size=(int(ids.max()) + 1, 3)).astype(np.uint8)
    pal[0] = (200, 200, 190)
    return pal[ids]


def frames(world: World, poses: list[np.ndarray], K: Intrinsics, fps: float = 10.0) -> list[Frame]:
    out = []
    for k, T in enumerate(poses):
        depth, ids = cast(world, K, T)
        out.append(Frame(index=k, timestamp_s=k / fps, rgb=colour(ids, depth), intrinsics=K, world_from_camera=T,
                         depth_m=depth, instance_ids=ids, instance_labels=world.labels))
    return out


def write_scene_folder(root: Path, world: World, poses: list[np.ndarray], K: Intrinsics, name: str = "scene_00000",
                       fps: float = 10.0) -> Path:
    """A scene folder following the synthetic-scene contract (without video/questions)."""
    d = Path(root) / name
    for sub in ("rgb", "depth", "instance"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    rows = []
    for k, T in enumerate(poses):
        depth, ids = cast(world, K, T)
        stem = f"{k:06d}"
        Image.fromarray(colour(ids, depth)).save(d / "rgb" / f"{stem}.jpg", quality=95)
        Image.fromarray(np.clip(np.rint(depth * 1000), 0, 65535).astype(np.uint16)).save(d / "depth" / f"{stem}.png")
        Image.fromarray(ids.astype(np.uint16)).save(d / "instance" / f"{stem}.png")
        rows.append({"index": k, "timestamp_s": k / fps, "world_from_camera": T.tolist(), "rgb": f"rgb/{stem}.jpg",
                     "depth": f"depth/{stem}.png", "instance": f"instance/{stem}.png"})
    (d / "frames.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (d / "intrinsics.json").write_text(json.dumps(K.to_dict()))
    objs = [{"id": i, "category": c, **b.to_dict(), "parts": [b.to_dict()], "support": "floor",
             "first_visible_frame": 0, "first_visible_s": 0.0} for i, c, b in world.boxes]
    scene = {"format": "spatialmem-scene", "version": 1, "scene_name": name, "seed": 0, "units": "m", "up": "z",
             "fps": fps, "num_frames": len(poses), "duration_s": len(poses) / fps, "image_size": [K.width, K.height],
             "first_visible_min_pixels": 50,
             "room": {"shape": "rect", "floor_z": 0.0, "ceiling_height_m": world.height,
                      "floor_polygon": world.polygon.tolist(), "floor_area_m2": 0.0},
             "objects": objs}
    (d / "scene.json").write_text(json.dumps(scene))
    return d


def small_K(width: int = 160, height: int = 120, hfov: float = 70.0) -> Intrinsics:
    return Intrinsics.from_fov(width, height, hfov)
