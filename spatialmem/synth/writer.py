"""Generate a scene for a seed and write its scene folder (docs/formats.md, "Synthetic scene folder").

:func:`generate_scene` decides everything from the seed (room type and shape, objects, camera
path); :func:`write_scene` renders it and writes the folder atomically: everything goes into a
hidden temporary folder next to the destination, which is renamed into place only when complete
(:mod:`spatialmem.fsutil`; an existing scene is restored if the final rename fails), so an
interrupted run leaves no half-written scene; temporary folders of runs that died are removed.
Encoders use fixed settings (JPEG quality 95, PNG compress level 1, x264 single-threaded at
constant QP) so the same seed gives byte-identical files. Images are encoded by a small thread
pool while the next frame renders.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from spatialmem import registry
from spatialmem.errors import InputError, MissingDependencyError, RenderError, require_package
from spatialmem.fsutil import swap_into_place, sweep_stale_partials, temp_sibling
from spatialmem.sources.video import FOCAL_35MM_TAGS, FULL_FRAME_DIAGONAL_MM
from spatialmem.synth import catalog
from spatialmem.synth.camera_path import camera_path
from spatialmem.synth.layout import layout_room
from spatialmem.synth.mesh import SceneMesh, build_mesh
from spatialmem.synth.room import make_room
from spatialmem.synth.scene_spec import (
    SceneSpec,
    dumps_scene,
    first_visible_threshold,
    scene_name_for,
    scene_to_dict,
)
from spatialmem.types import Intrinsics

ROOM_WEIGHTS = {"living room": 0.25, "bedroom": 0.22, "kitchen": 0.2, "office": 0.25, "bathroom": 0.08}
MAX_SIDE_PX = 4096
MIN_SIDE_PX = 16


@dataclass(frozen=True)
class SynthConfig:
    """How scenes are generated and written.

    Attributes:
        num_frames: frames per scene (>= 2).
        fps: capture frame rate (frames per second of the walkthrough and the video).
        width, height: image size in pixels (even, 16..4096).
        hfov_deg: horizontal field of view of the pinhole camera.
        renderer: "gl", "cpu" or "auto" (gl, falling back to cpu with a warning).
        workers: threads encoding images.
    """

    num_frames: int = 300
    fps: float = 10.0
    width: int = 640
    height: int = 480
    hfov_deg: float = 60.0
    renderer: str = "auto"
    workers: int = 2

    def validate(self) -> SynthConfig:
        """Raise :class:`InputError` naming the bad value and the allowed range."""
        if not 2 <= int(self.num_frames) <= 100000:
            raise InputError(f"--frames must be between 2 and 100000, got {self.num_frames}")
        if not (0.5 <= float(self.fps) <= 120):
            raise InputError(f"--fps must be between 0.5 and 120, got {self.fps}")
        for name, v in (("width", self.width), ("height", self.height)):
            if not MIN_SIDE_PX <= int(v) <= MAX_SIDE_PX or int(v) % 2:
                raise InputError(f"--size {name} must be an even number of pixels in {MIN_SIDE_PX}..{MAX_SIDE_PX}, "
                                 f"got {v} (e.g. --size 640x480)")
        if not 1 / 4 <= self.width / self.height <= 4:
            raise InputError(f"--size aspect ratio {self.width}x{self.height} is outside 1:4..4:1")
        if self.renderer not in ("gl", "cpu", "auto"):
            raise InputError(f"--renderer must be gl, cpu or auto, got {self.renderer!r}")
        return self

    @property
    def intrinsics(self) -> Intrinsics:
        return Intrinsics.from_fov(int(self.width), int(self.height), self.hfov_deg)


def generate_scene(seed: int, num_frames: int, fps: float) -> tuple[SceneSpec, SceneMesh, str]:
    """Everything decided from ``seed``: (scene, its mesh, room type)."""
    rng = np.random.default_rng(int(seed))
    types = sorted(ROOM_WEIGHTS)
    p = np.array([ROOM_WEIGHTS[t] for t in types])
    room_type = types[int(rng.choice(len(types), p=p / p.sum()))]
    room = make_room(rng, room_type)
    objects, free = layout_room(room, room_type, rng)
    pre = SceneSpec(int(seed), room, objects, np.zeros((0, 4, 4)), float(fps))
    mesh = build_mesh(pre)
    poses = camera_path(objects, free, mesh, room.floor_area_m2, num_frames, fps, rng)
    return SceneSpec(int(seed), room, objects, poses, float(fps)), mesh, room_type


def make_renderer(name: str, mesh: SceneMesh):
    """Build the renderer backend ``name`` ("gl", "cpu" or "auto") through the registry."""
    if name != "auto":
        return registry.build("renderer", name, mesh)
    try:
        return registry.build("renderer", "gl", mesh)
    except (RenderError, MissingDependencyError) as exc:
        warnings.warn(f"GL renderer unavailable, using the slower CPU renderer: {exc}", RuntimeWarning, stacklevel=2)
        return registry.build("renderer", "cpu", mesh)


def save_jpeg(path: Path, rgb: np.ndarray) -> None:
    """Write (H, W, 3) uint8 colour as a quality-95 JPEG (one function, so tests can simulate a failed write)."""
    Image.fromarray(rgb).save(path, "JPEG", quality=95, subsampling=0, optimize=False)


def save_png16(path: Path, arr: np.ndarray) -> None:
    """Write (H, W) integers as a 16-bit PNG (depth in mm, instance ids)."""
    Image.fromarray(arr.astype(np.uint16)).save(path, "PNG", compress_level=1)


def depth_to_mm(depth_m: np.ndarray) -> np.ndarray:
    """(H, W) float32 metres -> uint16 millimetres (rounded; 0 stays 0; clipped at 65.535 m)."""
    return np.clip(np.rint(depth_m * 1000.0), 0, 65535).astype(np.uint16)


class _Video:
    """H.264 writer with fixed settings (deterministic output)."""

    def __init__(self, path: Path, width: int, height: int, fps: float, focal_35mm: float | None = None) -> None:
        av = require_package("av", "video", "writing video.mp4")
        self.av = av
        self.container = av.open(str(path), mode="w", format="mp4", options={"movflags": "use_metadata_tags"})
        if focal_35mm is not None:  # as phones record it, so that a reader of video.mp4 alone knows the camera
            self.container.metadata[FOCAL_35MM_TAGS[0]] = f"{focal_35mm:.3f}"
        rate = Fraction(fps).limit_denominator(1000)
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        cc = self.stream.codec_context
        cc.thread_count = 1
        cc.time_base = 1 / rate
        # Constant QP, not CRF: x264's adaptive quantisation / mb-tree read frame padding that PyAV leaves
        # uninitialised, which made CRF output differ between identical runs.
        cc.options = {"qp": "22", "preset": "veryfast", "threads": "1"}
        self.n = 0

    def add(self, rgb: np.ndarray) -> None:
        frame = self.av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(format="yuv420p")
        frame.pts = self.n
        self.n += 1
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def _questions(scene: dict, seed: int) -> list[dict]:
    from spatialmem.synth.questions import generate_questions

    return generate_questions(scene, seed)


def write_scene(out_dir: str | os.PathLike, seed: int, config: SynthConfig = SynthConfig(), *, overwrite: bool = False,
                progress: Callable[[int, int], None] | None = None) -> Path:
    """Generate, render and write the scene folder ``out_dir/scene_<seed>``; returns its path.

    Raises:
        InputError: the folder exists and ``overwrite`` is False, or a config value is invalid.
    """
    config.validate()
    out_dir = Path(out_dir)
    name = scene_name_for(seed)
    dest = out_dir / name
    if dest.exists() and not overwrite:
        raise InputError(f"{dest} already exists; pass --overwrite to replace it or choose another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale_partials(out_dir)  # also what killed runs left under other names
    tmp = temp_sibling(dest)
    try:
        _write_into(tmp, seed, config, progress)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_into_place(tmp, dest)
    return dest


def _write_into(tmp: Path, seed: int, config: SynthConfig, progress) -> None:
    for sub in ("rgb", "depth", "instance"):
        (tmp / sub).mkdir(parents=True)
    F, fps, K = int(config.num_frames), float(config.fps), config.intrinsics
    spec, mesh, room_type = generate_scene(seed, F, fps)
    threshold = first_visible_threshold(K.width, K.height)
    n_obj = len(spec.objects)
    first: dict[int, int | None] = {o.id: None for o in spec.objects}
    renderer = make_renderer(config.renderer, mesh)
    video = _Video(tmp / "video.mp4", K.width, K.height, fps,
                   focal_35mm=K.fx * FULL_FRAME_DIAGONAL_MM / float(np.hypot(K.width, K.height)))
    rows = []
    try:
        with ThreadPoolExecutor(max(1, config.workers)) as pool, ThreadPoolExecutor(1) as vpool:
            futures = []
            for i in range(F):
                rgb, depth, inst = renderer.render(K, spec.poses[i])
                counts = np.bincount(inst.ravel(), minlength=n_obj + 1)
                for oid in np.nonzero(counts[1:] >= threshold)[0] + 1:
                    if first.get(int(oid), 0) is None:
                        first[int(oid)] = i
                stem = f"{i:06d}"
                futures.append(pool.submit(save_jpeg, tmp / "rgb" / f"{stem}.jpg", rgb))
                futures.append(pool.submit(save_png16, tmp / "depth" / f"{stem}.png", depth_to_mm(depth)))
                futures.append(pool.submit(save_png16, tmp / "instance" / f"{stem}.png", inst))
                futures.append(vpool.submit(video.add, rgb))
                rows.append({"index": i, "timestamp_s": round(i / fps, 6),
                             "world_from_camera": [[round(float(v), 9) for v in r] for r in spec.poses[i]],
                             "rgb": f"rgb/{stem}.jpg", "depth": f"depth/{stem}.png",
                             "instance": f"instance/{stem}.png"})
                if len(futures) > 64:  # bound memory: wait for the oldest work
                    for f in futures[:32]:
                        f.result()
                    futures = futures[32:]
                if progress is not None:
                    progress(i + 1, F)
            for f in futures:
                f.result()
        video.close()
    finally:
        close = getattr(renderer, "close", None)
        if close is not None:
            close()
    (tmp / "frames.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp / "intrinsics.json").write_text(json.dumps(K.to_dict(), indent=1) + "\n")
    scene = scene_to_dict(spec, (K.width, K.height), threshold, first)
    scene["room"]["type"] = room_type
    (tmp / "scene.json").write_text(dumps_scene(scene))
    questions = _questions(json.loads(dumps_scene(scene)), seed)
    (tmp / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))


def categories_summary(scene: dict) -> dict[str, int]:
    """Category -> count of a scene dictionary, sorted by name."""
    out: dict[str, int] = {}
    for o in scene["objects"]:
        out[o["category"]] = out.get(o["category"], 0) + 1
    return dict(sorted(out.items()))


__all__ = ["SynthConfig", "generate_scene", "write_scene", "make_renderer", "depth_to_mm", "categories_summary",
           "catalog"]
