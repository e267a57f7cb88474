"""Writers that turn a synthetic scene folder (the spatialmem synth contract) into other capture layouts.

Each ``write_<layout>(scene_dir, out_dir, world=R)`` re-expresses the poses in a world rotated by the
(3, 3) rotation ``R`` (``p_layout = R @ p_zup``), converts depth to the layout's unit and writes the
layout's index files. Not a test module: loaded by path from the tests of this folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

Y_DOWN = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # z-up -> y-down (+z maps to -y)
Y_UP = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # z-up -> y-up (+z maps to +y)
GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])
Z_UP = np.eye(3)


class Scene:
    """A synthetic scene folder's frames: rgb/depth/instance file paths, poses (4, 4), intrinsics dict."""

    def __init__(self, scene_dir: Path) -> None:
        self.dir = Path(scene_dir)
        self.K = json.loads((self.dir / "intrinsics.json").read_text())
        self.rows = [json.loads(x) for x in (self.dir / "frames.jsonl").read_text().splitlines() if x.strip()]
        self.labels = {o["id"]: o["category"] for o in json.loads((self.dir / "scene.json").read_text())["objects"]}

    def poses(self, R: np.ndarray) -> list[np.ndarray]:
        W = np.eye(4)
        W[:3, :3] = R
        return [W @ np.asarray(r["world_from_camera"], float) for r in self.rows]

    def depth_mm(self, r: dict) -> np.ndarray:
        return np.asarray(Image.open(self.dir / r["depth"]))

    def rgb(self, r: dict) -> Image.Image:
        return Image.open(self.dir / r["rgb"]).convert("RGB")

    def ids(self, r: dict) -> np.ndarray:
        return np.asarray(Image.open(self.dir / r["instance"]))

    def Kmat(self) -> np.ndarray:
        k = self.K
        return np.array([[k["fx"], 0, k["cx"]], [0, k["fy"], k["cy"]], [0, 0, 1.0]])


def depth_png(depth_mm: np.ndarray, scale: float) -> Image.Image:
    """Depth in 1/scale metres as a uint16 PNG image."""
    return Image.fromarray(np.clip(np.rint(depth_mm.astype(np.float64) * scale / 1000.0), 0, 65535).astype(np.uint16))


def quat(R: np.ndarray) -> tuple[float, float, float, float]:
    """(qx, qy, qz, qw) of a rotation matrix."""
    from scipy.spatial.transform import Rotation

    return tuple(Rotation.from_matrix(R).as_quat())


def write_scannet(scene_dir: Path, out: Path, world: np.ndarray = Z_UP, masks: bool = True) -> Path:
    s = Scene(scene_dir)
    for sub in ("color", "depth", "pose", "intrinsic"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    K4 = np.eye(4)
    K4[:3, :3] = s.Kmat()
    np.savetxt(out / "intrinsic" / "intrinsic_color.txt", K4)
    np.savetxt(out / "intrinsic" / "intrinsic_depth.txt", K4)
    if masks:
        (out / "instance-filt").mkdir()
        (out / "instance_labels.json").write_text(json.dumps({str(k): v for k, v in s.labels.items()}))
    for k, (r, T) in enumerate(zip(s.rows, s.poses(world), strict=True)):
        s.rgb(r).save(out / "color" / f"{k}.jpg", quality=95)
        depth_png(s.depth_mm(r), 1000).save(out / "depth" / f"{k}.png")
        np.savetxt(out / "pose" / f"{k}.txt", T)
        if masks:
            Image.fromarray(s.ids(r).astype(np.uint16)).save(out / "instance-filt" / f"{k}.png")
    return out
