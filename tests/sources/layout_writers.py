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


def write_intrinsics_text(scene_dir: Path, path: Path) -> Path:
    """The scene's K as a whitespace-separated 3x3 matrix (for --intrinsics)."""
    np.savetxt(path, Scene(scene_dir).Kmat())
    return path


def write_tum(scene_dir: Path, out: Path, world: np.ndarray = Y_DOWN, t0: float = 1305031102.175) -> Path:
    s = Scene(scene_dir)
    for sub in ("rgb", "depth"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rgb, dep, gt = ["# color images"], ["# depth maps"], ["# timestamp tx ty tz qx qy qz qw"]
    for r, T in zip(s.rows, s.poses(world), strict=True):
        t = t0 + r["timestamp_s"]
        s.rgb(r).save(out / "rgb" / f"{t:.6f}.png")
        depth_png(s.depth_mm(r), 5000).save(out / "depth" / f"{t + 0.004:.6f}.png")
        rgb.append(f"{t:.6f} rgb/{t:.6f}.png")
        dep.append(f"{t + 0.004:.6f} depth/{t + 0.004:.6f}.png")
        gt.append(f"{t - 0.003:.4f} " + " ".join(f"{v:.7f}" for v in (*T[:3, 3], *quat(T[:3, :3]))))
    for name, lines in (("rgb.txt", rgb), ("depth.txt", dep), ("groundtruth.txt", gt)):
        (out / name).write_text("\n".join(lines) + "\n")
    return out


def write_7scenes(scene_dir: Path, out: Path, world: np.ndarray = Y_DOWN) -> Path:
    s = Scene(scene_dir)
    seq = out / "seq-01"
    seq.mkdir(parents=True, exist_ok=True)
    for k, (r, T) in enumerate(zip(s.rows, s.poses(world), strict=True)):
        s.rgb(r).save(seq / f"frame-{k:06d}.color.png")
        d = depth_png(s.depth_mm(r), 1000)
        arr = np.asarray(d).copy()
        arr[arr == 0] = 65535  # 7-Scenes marks missing depth with 65535
        Image.fromarray(arr).save(seq / f"frame-{k:06d}.depth.png")
        np.savetxt(seq / f"frame-{k:06d}.pose.txt", T)
    return out


def write_replica(scene_dir: Path, out: Path, world: np.ndarray = Z_UP) -> Path:
    s = Scene(scene_dir)
    (out / "results").mkdir(parents=True, exist_ok=True)
    lines = []
    for k, (r, T) in enumerate(zip(s.rows, s.poses(world), strict=True)):
        s.rgb(r).save(out / "results" / f"frame{k:06d}.jpg", quality=95)
        depth_png(s.depth_mm(r), 6553.5).save(out / "results" / f"depth{k:06d}.png")
        lines.append(" ".join(f"{v:.9g}" for v in T.ravel()))
    (out / "traj.txt").write_text("\n".join(lines) + "\n")
    k = s.K
    (out / "cam_params.json").write_text(json.dumps({"camera": {"w": k["width"], "h": k["height"], "fx": k["fx"],
                                                                "fy": k["fy"], "cx": k["cx"], "cy": k["cy"],
                                                                "scale": 6553.5}}))
    return out


def write_stray(scene_dir: Path, out: Path, world: np.ndarray = Y_UP) -> Path:
    import av

    s = Scene(scene_dir)
    for sub in ("depth", "confidence"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    lines = ["timestamp, frame, x, y, z, qx, qy, qz, qw"]
    with av.open(str(out / "rgb.mp4"), "w") as video:
        st = video.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = s.K["width"], s.K["height"], "yuv444p"
        st.options = {"qp": "0"}
        for k, (r, T) in enumerate(zip(s.rows, s.poses(world), strict=True)):
            for pkt in st.encode(av.VideoFrame.from_ndarray(np.asarray(s.rgb(r)), format="rgb24")):
                video.mux(pkt)
            depth_png(s.depth_mm(r), 1000).save(out / "depth" / f"{k:06d}.png")
            Image.fromarray(np.full(s.depth_mm(r).shape, 2, np.uint8)).save(out / "confidence" / f"{k:06d}.png")
            lines.append(", ".join([f"{r['timestamp_s']:.6f}", str(k), *(f"{v:.7f}" for v in T[:3, 3]),
                                    *(f"{v:.7f}" for v in quat(T[:3, :3]))]))
        for pkt in st.encode():
            video.mux(pkt)
    (out / "odometry.csv").write_text("\n".join(lines) + "\n")
    np.savetxt(out / "camera_matrix.csv", s.Kmat(), delimiter=",")
    return out


def write_record3d(scene_dir: Path, out: Path, world: np.ndarray = Y_UP) -> Path:
    import OpenEXR

    s = Scene(scene_dir)
    (out / "rgbd").mkdir(parents=True, exist_ok=True)
    poses = []
    for k, (r, T) in enumerate(zip(s.rows, s.poses(world), strict=True)):
        s.rgb(r).save(out / "rgbd" / f"{k}.jpg", quality=95)
        d = (s.depth_mm(r).astype(np.float32) / 1000.0).astype(np.float32)
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, {"R": d}) as f:
            f.write(str(out / "rgbd" / f"{k}.exr"))
        Tgl = T @ GL_TO_CV
        poses.append([*quat(Tgl[:3, :3]), *Tgl[:3, 3]])
    meta = {"w": s.K["width"], "h": s.K["height"], "K": s.Kmat().T.ravel().tolist(), "fps": 10, "poses": poses}
    (out / "metadata.json").write_text(json.dumps(meta))
    return out


def write_arkitscenes(scene_dir: Path, out: Path, world: np.ndarray = Y_UP, vid: str = "41069025") -> Path:
    from scipy.spatial.transform import Rotation

    s = Scene(scene_dir)
    for sub in ("lowres_wide", "lowres_depth", "lowres_wide_intrinsics"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    lines = []
    k = s.K
    for r, T in zip(s.rows, s.poses(world), strict=True):
        t = 6845.123 + r["timestamp_s"]
        name = f"{vid}_{t:.3f}"
        s.rgb(r).save(out / "lowres_wide" / f"{name}.png")
        depth_png(s.depth_mm(r), 1000).save(out / "lowres_depth" / f"{name}.png")
        (out / "lowres_wide_intrinsics" / f"{name}.pincam").write_text(
            f"{k['width']} {k['height']} {k['fx']} {k['fy']} {k['cx']} {k['cy']}\n")
        inv = np.linalg.inv(T)
        lines.append(" ".join(f"{v:.8f}" for v in (t, *Rotation.from_matrix(inv[:3, :3]).as_rotvec(), *inv[:3, 3])))
    (out / "lowres_wide.traj").write_text("\n".join(lines) + "\n")
    return out


def write_r3d(scene_dir: Path, out: Path, world: np.ndarray = Y_UP) -> Path:
    """A Record3D .r3d file: a zip of metadata, rgbd/<n>.jpg and lzfse-compressed float32 rgbd/<n>.depth."""
    import io
    import zipfile

    import lzfse

    s = Scene(scene_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    poses = []
    with zipfile.ZipFile(out, "w") as z:
        for k, (r, T) in enumerate(zip(s.rows, s.poses(world), strict=True)):
            buf = io.BytesIO()
            s.rgb(r).save(buf, format="JPEG", quality=95)
            z.writestr(f"rgbd/{k}.jpg", buf.getvalue())
            d = (s.depth_mm(r).astype(np.float32) / 1000.0).astype(np.float32)
            z.writestr(f"rgbd/{k}.depth", lzfse.compress(d.tobytes()))
            Tgl = T @ GL_TO_CV
            poses.append([*quat(Tgl[:3, :3]), *Tgl[:3, 3]])
        h, w = s.depth_mm(s.rows[0]).shape
        z.writestr("metadata", json.dumps({"w": s.K["width"], "h": s.K["height"], "dw": w, "dh": h, "fps": 10,
                                           "K": s.Kmat().T.ravel().tolist(), "poses": poses}))
    return out
