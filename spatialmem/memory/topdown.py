"""Bird's-eye (top-down) map of a memory: floor polygon, scene points, labelled box footprints,
the camera path and a scale bar. Used by ``spatialmem render --topdown`` and the DSL op ``topdown()``.

The map looks down the world -z axis: world +x points right, world +y points up in the image.
It works for any memory, including imported ones with no points and no cameras.
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from spatialmem.geometry.boxes import OrientedBox, hull_xy
from spatialmem.memory.scene import SceneMemory

_BG = (255, 255, 255)
_FLOOR_FILL = (236, 236, 230)
_FLOOR_EDGE = (90, 90, 90)
_POINT_GREY = (150, 150, 150)
_CAMERA = (220, 40, 40)
_TEXT = (20, 20, 20)
_MAX_POINTS = 300_000
_MAX_ASPECT = 4.0


def category_color(category: str) -> tuple[int, int, int]:
    """A stable, saturated colour for a category name (same name -> same colour in every map)."""
    h = int(hashlib.md5(category.encode("utf-8")).hexdigest()[:6], 16) / 0xFFFFFF
    r, g, b = colorsys.hsv_to_rgb(h, 0.85, 0.75)
    return int(r * 255), int(g * 255), int(b * 255)


def footprint_xy(box: OrientedBox) -> np.ndarray:
    """(M, 2) floor-plane outline: the footprint of a gravity-aligned box, else the hull of its corners."""
    if box.is_gravity_aligned(1e-3):
        return box.footprint()
    return hull_xy(box.corners()[:, :2])


def _nice_length(target_m: float) -> float:
    """The largest 1/2/5 x 10^k length not above ``target_m``."""
    if target_m <= 0:
        return 1.0
    k = np.floor(np.log10(target_m))
    for m in (5.0, 2.0, 1.0):
        if m * 10**k <= target_m:
            return float(m * 10**k)
    return float(10**k)


def _free_spot(x0: float, y0: float, w: float, h: float, placed: list) -> tuple[float, float]:
    """Top-left corner for a w x h label near (x0, y0) that overlaps no placed label (shifted vertically)."""
    for k in range(12):
        dy = ((k + 1) // 2) * (h + 1) * (1 if k % 2 else -1)
        y = y0 + dy
        box = (x0 - 2, y - 2, x0 + w - 2, y + h - 2)
        if all(box[2] <= a or box[0] >= c or box[3] <= b or box[1] >= d for a, b, c, d in placed):
            return x0, y
    return x0, y0


def _ceiling_cut(memory: SceneMemory, z: np.ndarray) -> float:
    """Height (m) above which scene points are not drawn: just below the ceiling, when there is one.

    Uses ``room.ceiling_z`` when known; otherwise detects a ceiling as a dense horizontal layer of
    points (>= 2 % within 5 cm of the top) at least 1.8 m above the floor.
    """
    if memory.room is not None and memory.room.ceiling_z is not None:
        return float(memory.room.ceiling_z) - 0.1
    if len(z) == 0:
        return np.inf
    floor_z = float(memory.room.floor_z) if memory.room is not None else float(np.percentile(z, 1))
    top = float(z.max())
    if top - floor_z > 1.8 and float(np.mean(z > top - 0.05)) >= 0.02:
        return top - 0.1
    return np.inf


def _bounds(memory: SceneMemory, tick: Callable[[], None]) -> tuple[np.ndarray, np.ndarray]:
    chunks = []
    if memory.room is not None and len(memory.room.floor_polygon):
        chunks.append(np.asarray(memory.room.floor_polygon, float).reshape(-1, 2))
    for i, inst in enumerate(memory.instances):
        if i % 256 == 0:
            tick()
        chunks.append(footprint_xy(inst.box))
    if len(memory.points_world):
        pts = np.asarray(memory.points_world, float)[:, :2]
        chunks.append(np.percentile(pts, [0.5, 99.5], axis=0))  # robust to stray points
    if memory.cameras:
        chunks.append(np.array([c.world_from_camera[:2, 3] for c in memory.cameras], float))
    if not chunks:
        return np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    allxy = np.concatenate(chunks, axis=0)
    lo, hi = allxy.min(axis=0), allxy.max(axis=0)
    mid, ext = (lo + hi) / 2.0, np.maximum(hi - lo, 1.0)
    ext = np.maximum(ext, ext.max() / _MAX_ASPECT)
    pad = 0.06 * ext.max() + 0.3
    return mid - ext / 2.0 - pad, mid + ext / 2.0 + pad


def _no_deadline() -> None:
    return None


def render_topdown(memory: SceneMemory, width_px: int = 800, tick: Callable[[], None] = _no_deadline) -> np.ndarray:
    """Render the bird's-eye map of ``memory``.

    Args:
        memory: any memory (points, cameras and room are each optional).
        width_px: image width in pixels (>= 64); the height follows the scene's aspect ratio.
        tick: called every few hundred objects; it may raise to abort a render that takes too long
            (the query language passes its run deadline).

    Returns:
        (H, W, 3) uint8 RGB image, W = ``width_px``.
    """
    width_px = int(max(64, width_px))
    lo, hi = _bounds(memory, tick)
    scale = width_px / float(hi[0] - lo[0])  # pixels per metre
    height_px = int(max(64, round((hi[1] - lo[1]) * scale)))

    def to_px(xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, float).reshape(-1, 2)
        return np.stack([(xy[:, 0] - lo[0]) * scale, (hi[1] - xy[:, 1]) * scale], axis=1)

    img = Image.new("RGB", (width_px, height_px), _BG)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()

    room = memory.room
    if room is not None and len(room.floor_polygon) >= 3:
        poly = [tuple(p) for p in to_px(room.floor_polygon)]
        draw.polygon(poly, fill=_FLOOR_FILL, outline=_FLOOR_EDGE)
        draw.line(poly + [poly[0]], fill=_FLOOR_EDGE, width=3)

    if len(memory.points_world):
        arr = np.asarray(img).copy()
        pts = np.asarray(memory.points_world, float)
        has_col = len(memory.colors_rgb) == len(pts)
        idx = np.flatnonzero(pts[:, 2] < _ceiling_cut(memory, pts[:, 2]))  # the ceiling would hide the room
        if len(idx) > _MAX_POINTS:
            idx = np.sort(np.random.default_rng(0).choice(idx, _MAX_POINTS, replace=False))
        idx = idx[np.argsort(pts[idx, 2], kind="stable")]  # draw low first: the highest point shows
        px = np.floor(to_px(pts[idx, :2])).astype(np.int64)
        ok = (px[:, 0] >= 0) & (px[:, 0] < width_px) & (px[:, 1] >= 0) & (px[:, 1] < height_px)
        col = np.asarray(memory.colors_rgb, np.uint8)[idx] if has_col else np.full((len(idx), 3), _POINT_GREY, np.uint8)
        px, col = px[ok], col[ok]
        # splat each point over its voxel's footprint (voxel size from the build metadata, default 2 cm)
        voxel_m = float(memory.metadata.get("scene_voxel_m") or memory.metadata.get("voxel_size_m") or 0.02)
        s = int(np.clip(round(voxel_m * scale), 1, 6))
        for dy in range(s):
            for dx in range(s):
                arr[np.minimum(px[:, 1] + dy, height_px - 1), np.minimum(px[:, 0] + dx, width_px - 1)] = col
        img = Image.fromarray(arr)
        draw = ImageDraw.Draw(img)

    if memory.cameras:
        path = to_px(np.array([c.world_from_camera[:2, 3] for c in memory.cameras], float))
        if len(path) >= 2:
            draw.line([tuple(p) for p in path], fill=_CAMERA, width=2)
        sx, sy = path[0]
        draw.ellipse([sx - 5, sy - 5, sx + 5, sy + 5], outline=_CAMERA, width=2)  # start
        last = memory.cameras[-1].world_from_camera
        fwd = np.asarray(last[:2, 2], float)  # camera +z (viewing direction) on the floor plane
        ex, ey = path[-1]
        draw.ellipse([ex - 4, ey - 4, ex + 4, ey + 4], fill=_CAMERA)
        if np.linalg.norm(fwd) > 1e-6:
            f = fwd / np.linalg.norm(fwd) * 18.0
            draw.line([(ex, ey), (ex + f[0], ey - f[1])], fill=_CAMERA, width=3)

    labels = []
    for i, inst in enumerate(memory.instances):
        if i % 256 == 0:
            tick()
        colour = category_color(inst.category)
        fp = [tuple(p) for p in to_px(footprint_xy(inst.box))]
        draw.line(fp + [fp[0]], fill=colour, width=2)
        cx, cy = to_px(inst.box.center[:2])[0]
        labels.append((inst.box.size[0] * inst.box.size[1], cx, cy, f"{inst.category} #{inst.id}", colour))
    placed: list[tuple[float, float, float, float]] = []
    for i, (_, cx, cy, text, colour) in enumerate(sorted(labels, key=lambda x: x[0])):  # small ones keep their spot
        if i % 64 == 0:
            tick()
        l, t, r, b = draw.textbbox((0, 0), text, font=font)
        w, h = r - l, b - t
        x0, y0 = _free_spot(cx - w / 2, cy - h / 2, w + 4, h + 4, placed)
        placed.append((x0 - 2, y0 - 2, x0 + w + 2, y0 + h + 2))
        draw.rectangle(placed[-1], fill=(255, 255, 255), outline=colour)
        draw.text((x0 - l, y0 - t), text, fill=_TEXT, font=font)

    bar_m = _nice_length(0.25 * (hi[0] - lo[0]))
    bar_px = bar_m * scale
    x0, y0 = 12, height_px - 14
    draw.rectangle([x0 - 4, y0 - 16, x0 + bar_px + 4, y0 + 6], fill=(255, 255, 255))
    draw.line([(x0, y0), (x0 + bar_px, y0)], fill=_TEXT, width=3)
    draw.line([(x0, y0 - 5), (x0, y0 + 3)], fill=_TEXT, width=2)
    draw.line([(x0 + bar_px, y0 - 5), (x0 + bar_px, y0 + 3)], fill=_TEXT, width=2)
    label = f"{bar_m:g} m"
    draw.text((x0 + 2, y0 - 15), label, fill=_TEXT, font=font)
    return np.asarray(img, dtype=np.uint8).copy()
