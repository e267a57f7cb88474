"""Sources for phone LiDAR captures: Stray Scanner, Record3D and the ARKitScenes raw layout.

Stray Scanner (a folder)::

    rgb.mp4               colour video (e.g. 1920x1440), one frame per depth frame (needs the ``video`` extra)
    depth/000000.png      uint16 depth in millimetres (e.g. 256x192)
    confidence/000000.png 0/1/2 per depth pixel (optional); depth with confidence below ``min_confidence`` is dropped
    odometry.csv          header, then "timestamp, frame, x, y, z, qx, qy, qz, qw": world_from_camera with an
                          OpenCV camera, in the ARKit world (y up)
    camera_matrix.csv     3x3 K of the colour video

Record3D "EXR + JPG" export (a folder), or a ``.r3d`` file (a zip of ``metadata``, ``rgbd/<n>.jpg`` and
``rgbd/<n>.depth``: lzfse-compressed float32 metres of ``dh`` x ``dw``; needs the ``phone`` extra)::

    metadata.json         {"w", "h", "K" (9 numbers, column-major), "fps", "poses": [[qx, qy, qz, qw, tx, ty, tz]]}
                          (world_from_camera with an ARKit/OpenGL camera, y-up world)
    rgbd/0.jpg, rgbd/0.exr  colour and float depth in metres (the EXR needs the ``phone`` extra)

ARKitScenes raw (a ``<video_id>`` folder)::

    lowres_wide/<id>_<t>.png          colour (256x192)
    lowres_depth/<id>_<t>.png         uint16 depth in millimetres
    lowres_wide_intrinsics/<id>_<t>.pincam   "w h fx fy cx cy"
    lowres_wide.traj                  "t rx ry rz tx ty tz": camera_from_world, axis-angle in radians

The ARKit worlds of Stray Scanner and Record3D are levelled by the phone's IMU with y up, so the up
direction comes from that gravity (``method="imu"``); ARKitScenes' world is estimated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError, InputError, require_package
from spatialmem.sources.files import read_depth_mm, read_png16
from spatialmem.sources.rgbd import GL_TO_CV, FrameSpec, RGBDSequence, floats, nearest, pose_from_quat, read_table
from spatialmem.types import Intrinsics

ARKIT_GRAVITY = np.array([0.0, -1.0, 0.0])  # ARKit world: y up


def is_stray(p: Path) -> bool:
    return (p / "odometry.csv").is_file() and (p / "depth").is_dir() and (p / "rgb.mp4").is_file()


def is_record3d(p: Path) -> bool:
    return (p / "metadata.json").is_file() and (p / "rgbd").is_dir()


def is_r3d(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() == ".r3d"


def is_arkitscenes(p: Path) -> bool:
    return (p / "lowres_wide.traj").is_file() and (p / "lowres_wide").is_dir()


class _VideoFrames:
    """Frame k of a video, decoded forwards (re-opened when asked for an earlier frame)."""

    def __init__(self, path: Path) -> None:
        require_package("av", "video", "reading the colour video of a Stray Scanner capture")
        self.path = path
        self._it: Iterator | None = None
        self._next = 0

    def __call__(self, k: int, spec: FrameSpec) -> np.ndarray:
        import av

        n = spec.number
        try:
            if self._it is None or n < self._next:
                self._container = av.open(str(self.path))
                self._it = self._container.decode(self._container.streams.video[0])
                self._next = 0
            for vf in self._it:
                self._next += 1
                if self._next - 1 == n:
                    return vf.to_ndarray(format="rgb24")
        except (av.error.FFmpegError, OSError) as exc:
            raise FormatError(f"{self.path}: cannot decode video frame {n} ({exc})") from None
        raise FormatError(f"{self.path}: the video ends before frame {n} of odometry.csv")


class StraySource(RGBDSequence):
    """Frames of a Stray Scanner capture (module docstring); options as :class:`RGBDSequence`."""

    def __init__(self, path: str | os.PathLike, depth_scale: float = 1000.0, fps: float | None = None,
                 stride: int = 1, max_frames: int | None = None, intrinsics: Intrinsics | np.ndarray | None = None,
                 hfov_deg: float | None = None, min_confidence: int = 1) -> None:
        root = Path(path)
        rows = read_table(root / "odometry.csv", 9, "a Stray Scanner capture needs odometry.csv")
        if rows and not _is_number(rows[0][0]):
            rows = rows[1:]  # header
        specs = []
        for i, r in enumerate(rows):
            v = floats(r[:9], root / "odometry.csv", i + 2)
            n = int(v[1])
            try:
                T = pose_from_quat(v[2:5], v[5:9])
            except ValueError as exc:
                raise FormatError(f"{root / 'odometry.csv'} row {i + 2}: {exc}") from None
            depth = root / "depth" / f"{n:06d}.png"
            if not depth.is_file():
                raise FormatError(f"missing {depth} (frame {n} of odometry.csv)")
            specs.append(FrameSpec(n, v[0], root / "rgb.mp4", depth, T, f"{root / 'odometry.csv'} row {i + 2}"))
        K = np.loadtxt(root / "camera_matrix.csv", delimiter=",") if (root / "camera_matrix.csv").is_file() else None
        self._video = _VideoFrames(root / "rgb.mp4")
        self._conf_dir, self._min_conf = root / "confidence", int(min_confidence)
        super().__init__(root, specs, K, layout="stray", depth_scale=depth_scale, intrinsics=intrinsics,
                         hfov_deg=hfov_deg, fps=fps, stride=stride, max_frames=max_frames, gravity=ARKIT_GRAVITY,
                         color_reader=self._video, depth_reader=self._depth, what_K=str(root / "camera_matrix.csv"))

    def _color_size(self) -> tuple[int, int]:
        import av

        try:
            with av.open(str(self.path / "rgb.mp4")) as c:
                cc = c.streams.video[0].codec_context
                return int(cc.width), int(cc.height)
        except (av.error.FFmpegError, OSError, IndexError) as exc:
            raise FormatError(f"{self.path / 'rgb.mp4'}: cannot read the video ({exc})") from None

    def _depth(self, p: Path) -> np.ndarray:
        d = read_depth_mm(p, self.depth_scale)
        c = self._conf_dir / p.name
        if self._min_conf > 0 and c.is_file():
            conf = read_png16(c)
            if conf.shape == d.shape:
                d[conf < self._min_conf] = 0.0
        return d


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _read_exr(p: Path) -> np.ndarray:
    require_package("OpenEXR", "phone", "reading Record3D EXR depth")
    import OpenEXR

    try:
        with OpenEXR.File(str(p)) as f:
            ch = f.channels()
            key = next((k for k in ("Z", "R", "Y", "depth") if k in ch), next(iter(ch)))
            return np.asarray(ch[key].pixels, np.float32)
    except (OSError, RuntimeError, StopIteration) as exc:
        raise FormatError(f"cannot read depth {p}: {exc}") from None


class Record3DSource(RGBDSequence):
    """Frames of a Record3D capture: an EXR+JPG export folder or a ``.r3d`` file (module docstring).

    Options as :class:`RGBDSequence`.
    """

    def __init__(self, path: str | os.PathLike, fps: float | None = None, stride: int = 1,
                 max_frames: int | None = None, intrinsics: Intrinsics | np.ndarray | None = None,
                 hfov_deg: float | None = None) -> None:
        root = Path(path)
        self._zip = root if root.is_file() else None
        meta_p = f"{root}:metadata" if self._zip else str(root / "metadata.json")
        try:
            meta = json.loads(self._member("metadata") if self._zip else (root / "metadata.json").read_text())
            poses = np.asarray(meta["poses"], np.float64)
            K = np.asarray(meta["K"], np.float64).reshape(3, 3).T
            rate = float(meta.get("fps", 30.0))
            self._depth_hw = (int(meta.get("dh", 0)), int(meta.get("dw", 0)))
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"{meta_p}: expected JSON with 'poses' ([qx, qy, qz, qw, tx, ty, tz] per frame), "
                              f"'K' (9 numbers) and 'fps' ({exc})") from None
        if poses.ndim != 2 or poses.shape[1] != 7:
            raise FormatError(f"{meta_p}: 'poses' must hold 7 numbers per frame, got shape {poses.shape}")
        names = set(self._names()) if self._zip else None
        specs = []
        for n, p in enumerate(poses):
            if self._zip:
                color, depth = Path(f"rgbd/{n}.jpg"), Path(f"rgbd/{n}.depth")
                have_color, have_depth = str(color) in names, str(depth) in names
            else:
                color, depth = root / "rgbd" / f"{n}.jpg", root / "rgbd" / f"{n}.exr"
                have_color, have_depth = color.is_file(), depth.is_file()
            if not have_color:
                break
            if not have_depth:
                raise FormatError(f"missing {root}:{depth} (the depth of {color.name})" if self._zip else
                                  f"missing {depth} (the depth of {color.name})")
            try:
                T = pose_from_quat(p[4:7], p[:4]) @ GL_TO_CV
            except ValueError as exc:
                raise FormatError(f"{meta_p}: poses[{n}]: {exc}") from None
            specs.append(FrameSpec(n, n / rate, color, depth, T, f"{meta_p} poses[{n}]"))
        readers = {"depth_reader": self._r3d_depth, "color_reader": self._r3d_color} if self._zip else \
            {"depth_reader": _read_exr}
        super().__init__(root, specs, K, layout="record3d", depth_scale=1.0, intrinsics=intrinsics,
                         hfov_deg=hfov_deg, fps=fps, stride=stride, max_frames=max_frames, gravity=ARKIT_GRAVITY,
                         what_K=f"{meta_p} 'K'", **readers)

    def _names(self) -> list[str]:
        import zipfile

        try:
            with zipfile.ZipFile(self._zip) as z:
                return z.namelist()
        except (OSError, zipfile.BadZipFile) as exc:
            raise FormatError(f"{self._zip}: not a readable .r3d (zip) file ({exc})") from None

    def _member(self, name: str) -> bytes:
        import zipfile

        try:
            with zipfile.ZipFile(self._zip) as z:
                return z.read(name)
        except KeyError:
            raise FormatError(f"{self._zip}: has no {name}") from None
        except (OSError, zipfile.BadZipFile) as exc:
            raise FormatError(f"{self._zip}: not a readable .r3d (zip) file ({exc})") from None

    def _color_size(self) -> tuple[int, int]:
        if self._zip is None:
            return super()._color_size()
        return self._r3d_color(0, self.specs[0]).shape[1::-1]

    def _r3d_color(self, k: int, spec: FrameSpec) -> np.ndarray:
        import io

        from PIL import Image

        try:
            with Image.open(io.BytesIO(self._member(str(spec.color)))) as im:
                return np.asarray(im.convert("RGB"))
        except OSError as exc:
            raise FormatError(f"cannot read image {self._zip}:{spec.color}: {exc}") from None

    def _r3d_depth(self, name: Path) -> np.ndarray:
        require_package("lzfse", "phone", "reading Record3D .r3d depth")
        import lzfse

        h, w = self._depth_hw
        try:
            d = np.frombuffer(lzfse.decompress(self._member(str(name))), np.float32)
            return d.reshape(h, w).copy()
        except (ValueError, lzfse.error) as exc:
            raise FormatError(f"{self._zip}:{name}: expected lzfse-compressed float32 depth of {w}x{h} "
                              f"('dw', 'dh' of the metadata) ({exc})") from None


def _axis_angle(r: np.ndarray) -> np.ndarray:
    th = float(np.linalg.norm(r))
    if th < 1e-12:
        return np.eye(3)
    k = r / th
    Kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(th) * Kx + (1 - np.cos(th)) * Kx @ Kx


class ARKitScenesSource(RGBDSequence):
    """Frames of an ARKitScenes raw ``<video_id>`` folder (module docstring); options as :class:`RGBDSequence`."""

    def __init__(self, path: str | os.PathLike, depth_scale: float = 1000.0, fps: float | None = None,
                 stride: int = 1, max_frames: int | None = None, intrinsics: Intrinsics | np.ndarray | None = None,
                 hfov_deg: float | None = None, max_dt_s: float = 0.05) -> None:
        root = Path(path)
        traj = root / "lowres_wide.traj"
        vals = np.array([floats(r[:7], traj, i + 1) for i, r in enumerate(read_table(traj, 7, ""))])
        if len(vals) == 0:
            raise FormatError(f"{traj}: no poses")
        vals = vals[np.argsort(vals[:, 0], kind="stable")]
        frames = sorted(root.glob("lowres_wide/*.png"))
        specs, pincam = [], None
        for f in frames:
            try:
                t = float(f.stem.rsplit("_", 1)[1])
            except (IndexError, ValueError):
                raise FormatError(f"{f}: expected a name <video_id>_<timestamp>.png") from None
            j = nearest(vals[:, 0], t)
            if abs(vals[j, 0] - t) > max_dt_s:
                continue
            depth = root / "lowres_depth" / f.name
            if not depth.is_file():
                raise FormatError(f"missing {depth} (the depth of {f.name})")
            cam_from_world = np.eye(4)
            cam_from_world[:3, :3], cam_from_world[:3, 3] = _axis_angle(vals[j, 1:4]), vals[j, 4:7]
            specs.append(FrameSpec(len(specs), t, f, depth, np.linalg.inv(cam_from_world), f"{traj} at time {t:.3f}"))
            pincam = pincam or root / "lowres_wide_intrinsics" / f"{f.stem}.pincam"
        K = None
        if pincam is not None and pincam.is_file():
            v = floats(read_table(pincam, 6, "")[0][:6], pincam, 1)
            K = Intrinsics(v[2], v[3], v[4], v[5], int(v[0]), int(v[1]))
        elif intrinsics is None and hfov_deg is None and specs:
            raise InputError(f"missing {pincam}; pass --intrinsics or --fov")
        super().__init__(root, specs, K, layout="arkitscenes", depth_scale=depth_scale, intrinsics=intrinsics,
                         hfov_deg=hfov_deg, fps=fps, stride=stride, max_frames=max_frames, what_K=str(pincam))


__all__ = ["StraySource", "Record3DSource", "ARKitScenesSource", "is_stray", "is_record3d", "is_r3d", "is_arkitscenes"]
