"""Point-splatting renderer of a memory from a viewpoint (numpy only; PIL only for the box labels).

Draws the memory's points (or its instances' points when it has none) and each instance's box as a
wireframe in a category colour, depth-ordered with a z-buffer, from an OpenCV pinhole camera at
the viewpoint. Used by the query-language op ``render(view, width=, height=)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

from spatialmem.geometry.se3 import look_at

BACKGROUND = (24, 24, 28)
PITCH_DOWN = 0.25  # the camera looks slightly down: forward (fx, fy) and -0.25 in z per metre
_EDGE_SAMPLES = 48


def category_color(category: str) -> tuple[int, int, int]:
    """A stable bright colour for a category name."""
    h = hashlib.md5(category.encode("utf-8")).digest()
    return int(80 + h[0] % 176), int(80 + h[1] % 176), int(80 + h[2] % 176)


def _box_edges(box, samples: int = _EDGE_SAMPLES) -> np.ndarray:
    corners = box.corners()
    from spatialmem.geometry.boxes import BOX_EDGES

    t = np.linspace(0.0, 1.0, samples)[:, None, None]
    a, b = corners[BOX_EDGES[:, 0]], corners[BOX_EDGES[:, 1]]
    return (a[None] + t * (b - a)[None]).reshape(-1, 3)


def project(points_world: np.ndarray, world_from_camera: np.ndarray, fx: float, fy: float, cx: float, cy: float):
    """Pixel coordinates (N, 2) and depths (N,) of world points for an OpenCV pinhole camera."""
    R, t = world_from_camera[:3, :3], world_from_camera[:3, 3]
    cam = (np.asarray(points_world, np.float64) - t) @ R
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = fx * cam[:, 0] / z + cx
        v = fy * cam[:, 1] / z + cy
    return np.stack([u, v], axis=1), z


def splat(image: np.ndarray, depth: np.ndarray, uv: np.ndarray, z: np.ndarray, colors: np.ndarray,
          radius: int = 1) -> None:
    """Paint points into ``image`` (H, W, 3) keeping the nearest per pixel (``depth`` (H, W) z-buffer, in place)."""
    H, W = depth.shape
    keep = (z > 0.05) & np.isfinite(uv).all(axis=1)
    uv, z, colors = uv[keep], z[keep], colors[keep]
    if len(z) == 0:
        return
    base = np.round(uv).astype(np.int64)
    offs = [(dx, dy) for dx in range(radius) for dy in range(radius)] if radius > 1 else [(0, 0)]
    px = np.concatenate([base + np.array(o) for o in offs])
    zz, cc = np.tile(z, len(offs)), np.tile(colors, (len(offs), 1))
    ok = (px[:, 0] >= 0) & (px[:, 0] < W) & (px[:, 1] >= 0) & (px[:, 1] < H)
    px, zz, cc = px[ok], zz[ok], cc[ok]
    flat = px[:, 1] * W + px[:, 0]
    order = np.lexsort((zz, flat))  # by pixel, nearest first
    flat, zz, cc = flat[order], zz[order], cc[order]
    first = np.ones(len(flat), bool)
    first[1:] = flat[1:] != flat[:-1]
    flat, zz, cc = flat[first], zz[first], cc[first]
    dflat = depth.reshape(-1)
    closer = zz < dflat[flat]
    dflat[flat[closer]] = zz[closer]
    image.reshape(-1, 3)[flat[closer]] = cc[closer]


def _no_deadline() -> None:
    return None


def render_view(memory, position_xy, facing_xy, eye_z: float, width: int, height: int,
                hfov_deg: float = 90.0, labels: bool = True, tick: Callable[[], None] = _no_deadline) -> np.ndarray:
    """(height, width, 3) uint8 image of ``memory`` seen from a floor-plane viewpoint.

    Args:
        memory: a SceneMemory.
        position_xy: (2,) viewer position, metres; ``facing_xy`` (2,) its horizontal facing direction.
        eye_z: eye height (world z, metres).
        width / height: image size in pixels; hfov_deg: horizontal field of view.
        labels: write each visible box's category at its projected centre.
        tick: called every few hundred objects; it may raise to abort a render that takes too long.
    """
    f = np.asarray(facing_xy, np.float64)[:2]
    f = f / max(float(np.linalg.norm(f)), 1e-9)
    eye = np.array([position_xy[0], position_xy[1], eye_z], np.float64)
    T = look_at(eye, eye + np.array([f[0], f[1], -PITCH_DOWN]))
    fpx = 0.5 * width / np.tan(np.radians(hfov_deg) / 2.0)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    image = np.empty((height, width, 3), np.uint8)
    image[:] = BACKGROUND
    depth = np.full((height, width), np.inf)
    pts, cols = np.asarray(memory.points_world), np.asarray(memory.colors_rgb)
    if len(pts) == 0:
        with_pts = [i for i in memory.instances if len(i.points_world)]
        if with_pts:
            pts = np.concatenate([i.points_world for i in with_pts])
            cols = np.concatenate([np.tile(category_color(i.category), (len(i.points_world), 1)) for i in with_pts])
    if len(pts):
        if len(cols) != len(pts):
            cols = np.full((len(pts), 3), 180)
        uv, z = project(pts, T, fpx, fpx, cx, cy)
        splat(image, depth, uv, z, np.asarray(cols, np.uint8), radius=2)
    centers = []
    for i, inst in enumerate(memory.instances):
        if i % 256 == 0:
            tick()
        e = _box_edges(inst.box)
        uv, z = project(e, T, fpx, fpx, cx, cy)
        splat(image, depth, uv, z - 0.02, np.tile(np.array(category_color(inst.category), np.uint8), (len(e), 1)))
        cuv, cz = project(inst.box.center[None], T, fpx, fpx, cx, cy)
        if cz[0] > 0.05 and 0 <= cuv[0, 0] < width and 0 <= cuv[0, 1] < height:
            centers.append((cz[0], cuv[0], inst.category))
    if labels and centers:
        from PIL import Image as PILImage
        from PIL import ImageDraw

        pil = PILImage.fromarray(image)
        draw = ImageDraw.Draw(pil)
        for i, (_, (u, v), cat) in enumerate(sorted(centers, key=lambda c: -c[0])):
            if i % 256 == 0:
                tick()
            draw.text((float(u), float(v)), cat, fill=category_color(cat))
        image = np.asarray(pil).copy()
    return image
