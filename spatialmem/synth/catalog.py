"""The object catalogue: categories, realistic sizes, colour palettes and box-primitive builders.

Every *kind* (e.g. ``"floor_lamp"``) names the category written to scene.json (``"lamp"``), a size
range (width x depth x height, metres, in the object's own frame), a palette and a builder that
makes the object from boxes so it looks like the thing (a chair has four legs, a seat and a back).

Object frame: origin at the centre of the footprint on the floor (or on its support surface),
x to the object's right, y towards its *front*, z up. Against a wall the back (-y) touches the wall.
Builders return parts in that frame plus an optional top *surface* other objects can stand on.
Room types (:data:`ROOM_TYPES`) say which kinds a room has, how many (some exactly once, some 2-6)
and how they are placed (see synth.layout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spatialmem.synth.scene_spec import MATERIALS

M = {name: i for i, name in enumerate(MATERIALS)}
Color = tuple[float, float, float]


@dataclass(frozen=True)
class LocalPart:
    """A box in the object frame: centre (3,), size (3,), colour, material, extra yaw (radians)."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    color: Color
    material: int
    yaw: float = 0.0


@dataclass(frozen=True)
class Surface:
    """A horizontal rectangle in the object frame that other objects can stand on."""

    x0: float
    x1: float
    y0: float
    y1: float
    z: float


@dataclass(frozen=True)
class Kind:
    """One buildable kind of object.

    Attributes:
        name: kind name (unique).
        category: category written to scene.json.
        size_lo, size_hi: (w, d, h) ranges in metres.
        palette: base colours to pick from.
        builder: ``builder(rng, w, d, h, color) -> (parts, surface | None)``.
    """

    name: str
    category: str
    size_lo: tuple[float, float, float]
    size_hi: tuple[float, float, float]
    palette: tuple[Color, ...]
    builder: Callable


def _box(cx, cy, z0, sx, sy, sz, color, mat="plain", yaw=0.0) -> LocalPart:
    """A part whose bottom face is at height ``z0``."""
    return LocalPart((cx, cy, z0 + sz / 2.0), (sx, sy, sz), tuple(float(c) for c in color), M[mat], yaw)


def _shade(c: Color, k: float) -> Color:
    return tuple(float(min(1.0, max(0.0, v * k))) for v in c)  # type: ignore[return-value]


def _legs(w, d, h, t, inset, color, mat="wood", z0=0.0) -> list[LocalPart]:
    xs, ys = w / 2 - inset - t / 2, d / 2 - inset - t / 2
    return [_box(sx * xs, sy * ys, z0, t, t, h, color, mat) for sx in (-1, 1) for sy in (-1, 1)]


WOODS = ((0.55, 0.38, 0.22), (0.72, 0.55, 0.36), (0.35, 0.24, 0.15), (0.82, 0.7, 0.52))
FABRICS = ((0.25, 0.35, 0.55), (0.55, 0.2, 0.2), (0.35, 0.5, 0.3), (0.6, 0.58, 0.52), (0.3, 0.3, 0.32))
WHITES = ((0.9, 0.9, 0.88), (0.85, 0.86, 0.9), (0.93, 0.92, 0.86))
METALS = ((0.6, 0.62, 0.65), (0.25, 0.25, 0.27), (0.8, 0.8, 0.82))
DARK = ((0.1, 0.1, 0.11), (0.18, 0.18, 0.2))
BRIGHT = ((0.85, 0.3, 0.2), (0.2, 0.55, 0.8), (0.9, 0.75, 0.2), (0.3, 0.7, 0.4), (0.6, 0.3, 0.65))


# ------------------------------------------------------------------------------- builders
def chair(rng, w, d, h, c):
    sh, leg = rng.uniform(0.42, 0.48), (0.35, 0.25, 0.18) if rng.random() < 0.5 else c
    parts = _legs(w, d, sh - 0.05, 0.04, 0.02, leg)
    parts.append(_box(0, 0, sh - 0.05, w, d, 0.05, c, "fabric"))
    parts.append(_box(0, -d / 2 + 0.03, sh, w, 0.05, h - sh, c, "fabric"))
    return parts, None


def stool(rng, w, d, h, c):
    parts = _legs(w, d, h - 0.05, 0.035, 0.03, METALS[1], "metal")
    parts.append(_box(0, 0, h * 0.35, w - 0.08, 0.025, 0.025, METALS[1], "metal"))
    parts.append(_box(0, 0, h - 0.05, w, d, 0.05, c, "wood"))
    return parts, None


def table(rng, w, d, h, c):
    parts = _legs(w, d, h - 0.04, 0.06, 0.06, _shade(c, 0.8), "wood")
    parts.append(_box(0, 0, h - 0.04, w, d, 0.04, c, "wood"))
    return parts, Surface(-w / 2 + 0.05, w / 2 - 0.05, -d / 2 + 0.05, d / 2 - 0.05, h)


def desk(rng, w, d, h, c):
    t = 0.03
    parts = [_box(-w / 2 + t / 2, 0, 0, t, d - 0.02, h - 0.03, _shade(c, 0.85), "wood"),
             _box(w / 2 - 0.22, 0, 0, 0.4, d - 0.04, h - 0.03, _shade(c, 0.85), "wood"),
             _box(-w / 4, -d / 2 + 0.03, 0.3, w / 2, 0.02, h - 0.35, _shade(c, 0.8), "wood"),
             _box(w / 2 - 0.22, d / 2 - 0.02, h - 0.2, 0.34, 0.015, 0.12, _shade(c, 1.1), "wood"),
             _box(0, 0, h - 0.03, w, d, 0.03, c, "wood")]
    return parts, Surface(-w / 2 + 0.05, w / 2 - 0.05, -d / 2 + 0.05, d / 2 - 0.08, h)


def sofa(rng, w, d, h, c):
    arm, base_h, back_d = 0.18, 0.42, 0.22
    parts = _legs(w, d, 0.08, 0.05, 0.04, DARK[0])
    parts.append(_box(0, 0, 0.08, w, d, base_h - 0.08 - 0.12, _shade(c, 0.9), "fabric"))
    n = 2 if w < 2.0 else 3
    cw = (w - 2 * arm) / n
    for i in range(n):
        cx = -w / 2 + arm + cw * (i + 0.5)
        parts.append(_box(cx, back_d / 2, base_h - 0.12, cw - 0.02, d - back_d - 0.02, 0.12, c, "fabric"))
    parts.append(_box(0, -d / 2 + back_d / 2, 0.08, w, back_d, h - 0.08, _shade(c, 0.95), "fabric"))
    for s in (-1, 1):
        parts.append(_box(s * (w / 2 - arm / 2), back_d / 2 - 0.01, 0.08, arm, d - back_d, 0.6 - 0.08,
                          _shade(c, 0.9), "fabric"))
    return parts, Surface(-w / 2 + arm + 0.02, w / 2 - arm - 0.02, -d / 2 + back_d + 0.01, -d / 2 + back_d + 0.5,
                          base_h)


def bed(rng, w, d, h, c):
    frame = WOODS[int(rng.integers(len(WOODS)))]
    fh, mh = 0.32, 0.22
    parts = _legs(w, d, 0.06, 0.07, 0.02, frame)
    parts.append(_box(0, 0.03, 0.06, w, d - 0.06, fh - 0.06, frame, "wood"))
    parts.append(_box(0, 0.05, fh, w - 0.06, d - 0.14, mh, WHITES[int(rng.integers(3))], "fabric"))
    parts.append(_box(0, 0.25, fh + mh, w - 0.02, d * 0.55, 0.04, c, "fabric"))  # duvet
    parts.append(_box(0, -d / 2 + 0.04, 0, w, 0.08, h, frame, "wood"))
    top = fh + mh
    return parts, Surface(-w / 2 + 0.05, w / 2 - 0.05, -d / 2 + 0.09, -d / 2 + 0.55, top)


def pillow(rng, w, d, h, c):
    return [_box(0, 0, 0, w, d, h * 0.6, c, "fabric"),
            _box(0, 0, h * 0.6, w * 0.85, d * 0.8, h * 0.4, c, "fabric")], None


def tv(rng, w, d, h, c):
    sh = 0.08
    parts = [_box(0, 0, 0, w * 0.35, 0.22, 0.02, c, "metal"), _box(0, -0.02, 0.02, 0.06, 0.04, sh, c, "metal"),
             _box(0, -0.01, sh, w, 0.05, h - sh, c, "metal"),
             _box(0, 0.016, sh + 0.02, w - 0.04, 0.02, h - sh - 0.04, DARK[0], "screen")]
    return parts, None


def monitor(rng, w, d, h, c):
    parts = [_box(0, 0, 0, 0.22, 0.18, 0.02, c, "metal"), _box(0, -0.05, 0.02, 0.05, 0.03, h * 0.35, c, "metal"),
             _box(0, -0.01, h * 0.3, w, 0.03, h * 0.7, c, "metal"),
             _box(0, 0.006, h * 0.3 + 0.015, w - 0.03, 0.02, h * 0.7 - 0.03, DARK[0], "screen")]
    return parts, None


def laptop(rng, w, d, h, c):
    return [_box(0, 0.02, 0, w, d - 0.04, 0.02, c, "metal"), _box(0, -d / 2 + 0.01, 0.0, w, 0.015, h, c, "metal"),
            _box(0, -d / 2 + 0.02, 0.02, w - 0.02, 0.005, h - 0.03, DARK[1], "screen")], None


def lamp(rng, w, d, h, c):
    shade_h = min(0.35, h * 0.3)
    return [_box(0, 0, 0, w * 0.7, d * 0.7, 0.03, METALS[1], "metal"),
            _box(0, 0, 0.03, 0.03, 0.03, h - shade_h - 0.03, METALS[0], "metal"),
            _box(0, 0, h - shade_h, w, d, shade_h, c, "fabric")], None


def cabinet(rng, w, d, h, c):
    n = 2 if w > 0.7 else 1
    parts = [_box(0, 0, 0, w - 0.04, d - 0.04, 0.08, DARK[1]), _box(0, -0.01, 0.08, w, d - 0.02, h - 0.08, c, "wood")]
    dw = (w - 0.04) / n
    for i in range(n):
        cx = -w / 2 + 0.02 + dw * (i + 0.5)
        parts.append(_box(cx, d / 2 - 0.01, 0.1, dw - 0.02, 0.02, h - 0.14, _shade(c, 1.12), "wood"))
        hx = cx + (dw / 2 - 0.06) * (1 if i == 0 and n == 2 else -1)
        parts.append(_box(hx, d / 2 + 0.01, h * 0.55, 0.02, 0.02, 0.12, METALS[0], "metal"))
    return parts, Surface(-w / 2 + 0.05, w / 2 - 0.05, -d / 2 + 0.05, d / 2 - 0.05, h)


def nightstand(rng, w, d, h, c):
    parts = [_box(0, -0.01, 0, w, d - 0.02, h, c, "wood"),
             _box(0, d / 2 - 0.01, h * 0.55, w - 0.04, 0.02, h * 0.38, _shade(c, 1.15), "wood"),
             _box(0, d / 2 + 0.01, h * 0.72, 0.1, 0.02, 0.02, METALS[0], "metal")]
    return parts, Surface(-w / 2 + 0.04, w / 2 - 0.04, -d / 2 + 0.04, d / 2 - 0.04, h)


def dresser(rng, w, d, h, c):
    parts = [_box(0, -0.01, 0.05, w, d - 0.02, h - 0.05, c, "wood"), _box(0, 0, 0, w - 0.06, d - 0.06, 0.05, DARK[1])]
    rows, dh = 3, (h - 0.1) / 3
    for r in range(rows):
        for s in (-1, 1):
            z = 0.07 + r * dh
            parts.append(_box(s * w / 4, d / 2 - 0.01, z, w / 2 - 0.04, 0.02, dh - 0.03, _shade(c, 1.12), "wood"))
            parts.append(_box(s * w / 4, d / 2 + 0.01, z + dh / 2, 0.12, 0.02, 0.02, METALS[0], "metal"))
    return parts, Surface(-w / 2 + 0.05, w / 2 - 0.05, -d / 2 + 0.05, d / 2 - 0.05, h)


def bookshelf(rng, w, d, h, c):
    t = 0.03
    parts = [_box(s * (w / 2 - t / 2), 0, 0, t, d, h, c, "wood") for s in (-1, 1)]
    parts += [_box(0, -d / 2 + 0.005, 0, w - 2 * t, 0.01, h, _shade(c, 0.8), "wood")]
    n = int(rng.integers(4, 6))
    gap = (h - t) / n
    for i in range(n + 1):
        parts.append(_box(0, 0, i * gap if i < n else h - t, w - 2 * t, d, t, c, "wood"))
    for i in range(n):
        x = -w / 2 + t + 0.01
        while x < w / 2 - t - 0.06:
            bw = float(rng.uniform(0.02, 0.05))
            bh = float(rng.uniform(0.55, 0.85)) * (gap - t)
            if x + bw > w / 2 - t - 0.01:
                break
            col = BRIGHT[int(rng.integers(len(BRIGHT)))] if rng.random() < 0.7 else FABRICS[int(rng.integers(5))]
            parts.append(_box(x + bw / 2, 0.0, i * gap + t, bw, d * 0.8, bh, col, "plain"))
            x += bw + (0.002 if rng.random() < 0.85 else float(rng.uniform(0.05, 0.15)))
    return parts, None


def refrigerator(rng, w, d, h, c):
    fz = h * 0.32
    return [_box(0, -0.02, 0, w, d - 0.04, h, c, "metal"),
            _box(0, d / 2 - 0.02, h - fz + 0.01, w - 0.01, 0.04, fz - 0.02, _shade(c, 1.05), "metal"),
            _box(0, d / 2 - 0.02, 0.05, w - 0.01, 0.04, h - fz - 0.05, _shade(c, 1.05), "metal"),
            _box(w / 2 - 0.06, d / 2 + 0.02, h - fz + 0.05, 0.025, 0.03, 0.2, METALS[1], "metal"),
            _box(w / 2 - 0.06, d / 2 + 0.02, h - fz - 0.45, 0.025, 0.03, 0.35, METALS[1], "metal")], None


def toilet(rng, w, d, h, c):
    return [_box(0, 0.05, 0, w * 0.55, d * 0.45, 0.3, c, "plain"),
            _box(0, 0.08, 0.3, w * 0.9, d * 0.6, 0.1, c, "plain"),
            _box(0, 0.08, 0.4, w, d * 0.62, 0.03, _shade(c, 0.95), "plain"),
            _box(0, -d / 2 + 0.1, 0.35, w, 0.2, h - 0.35, c, "plain"),
            _box(0, -d / 2 + 0.1, h - 0.02, w * 0.3, 0.06, 0.02, METALS[0], "metal")], None


def sink(rng, w, d, h, c):
    wood = WOODS[int(rng.integers(len(WOODS)))]
    ch = h - 0.25  # counter height; the faucet rises above it to the full height h
    return [_box(0, -0.02, 0, w, d - 0.04, ch - 0.04, wood, "wood"),
            _box(0, d / 2 - 0.03, 0.08, w - 0.04, 0.02, ch - 0.18, _shade(wood, 1.15), "wood"),
            _box(0, 0, ch - 0.04, w, d, 0.04, c, "tiles"),
            _box(0, 0.03, ch, w * 0.55, d * 0.55, 0.03, WHITES[0], "plain"),
            _box(0, -d / 2 + 0.06, ch, 0.04, 0.04, 0.25, METALS[0], "metal"),
            _box(0, -d / 2 + 0.12, ch + 0.2, 0.03, 0.12, 0.03, METALS[0], "metal")], None


def bathtub(rng, w, d, h, c):
    t = 0.08
    return [_box(0, 0, 0, w, d, 0.12, c, "plain"),
            _box(0, -d / 2 + t / 2, 0.12, w, t, h - 0.12, c, "plain"), _box(0, d / 2 - t / 2, 0.12, w, t, h - 0.12, c),
            _box(-w / 2 + t / 2, 0, 0.12, t, d - 2 * t, h - 0.12, c),
            _box(w / 2 - t / 2, 0, 0.12, t, d - 2 * t, h - 0.12, c),
            _box(-w / 2 + 0.25, -d / 2 + t + 0.04, h - 0.08, 0.04, 0.08, 0.04, METALS[0], "metal")], None


def trash_bin(rng, w, d, h, c):
    return [_box(0, 0, 0, w * 0.92, d * 0.92, h - 0.04, c, "plain"),
            _box(0, 0, h - 0.04, w, d, 0.04, _shade(c, 0.8))], None


def plant(rng, w, d, h, c):
    pot_h = min(0.35, h * 0.3)
    pot = ((0.7, 0.35, 0.2), (0.85, 0.85, 0.82), (0.25, 0.25, 0.27))[int(rng.integers(3))]
    parts = [_box(0, 0, 0, w * 0.55, d * 0.55, pot_h, pot, "plain"),
             _box(0, 0, pot_h, 0.03, 0.03, h * 0.45, (0.35, 0.25, 0.12), "wood")]
    for i in range(int(rng.integers(4, 7))):
        s = float(rng.uniform(0.35, 0.5))
        z = pot_h + (h - pot_h) * (0.25 + 0.55 * i / 6)
        sz = min(s * 0.6, h - z)
        off = (0.5 - s / 2) * 0.5
        parts.append(_box(float(rng.uniform(-off, off)) * w, float(rng.uniform(-off, off)) * d, z, w * s, d * s, sz,
                          _shade(c, float(rng.uniform(0.8, 1.2))), "leaf", yaw=float(rng.uniform(0, np.pi / 2))))
    return parts, None


def backpack(rng, w, d, h, c):
    return [_box(0, 0, 0, w, d * 0.7, h * 0.85, c, "fabric"), _box(0, d * 0.3, 0.04, w * 0.7, d * 0.3, h * 0.4,
                                                                     _shade(c, 0.8), "fabric"),
            _box(0, 0, h * 0.85, w * 0.7, d * 0.5, h * 0.1, c, "fabric"),
            _box(0, -0.01, h * 0.95, 0.1, 0.03, h * 0.05, DARK[0], "fabric"),
            _box(-w * 0.25, -d / 2 + 0.015, h * 0.2, 0.05, 0.03, h * 0.6, DARK[0], "fabric"),
            _box(w * 0.25, -d / 2 + 0.015, h * 0.2, 0.05, 0.03, h * 0.6, DARK[0], "fabric")], None


def microwave(rng, w, d, h, c):
    return [_box(0, -0.01, 0.01, w, d - 0.02, h - 0.01, c, "metal"),
            _box(-w * 0.12, d / 2 - 0.005, 0.04, w * 0.66, 0.01, h - 0.08, DARK[0], "glass"),
            _box(w * 0.36, d / 2 - 0.005, 0.04, w * 0.2, 0.012, h - 0.08, DARK[1], "screen"),
            *[_box(sx * w * 0.4, sy * d * 0.4, 0, 0.03, 0.03, 0.01, DARK[0]) for sx in (-1, 1) for sy in (-1, 1)]], None


def stove(rng, w, d, h, c):
    top, h = h, h - 0.15  # cooktop height; the control panel rises to the full height
    parts = [_box(0, -0.02, 0, w, d - 0.04, h - 0.02, c, "metal"),
             _box(0, d / 2 - 0.02, 0.12, w - 0.06, 0.02, h * 0.55, DARK[0], "glass"),
             _box(0, d / 2, h * 0.72, w - 0.2, 0.02, 0.025, METALS[0], "metal"),
             _box(0, 0, h - 0.02, w, d, 0.02, DARK[1], "metal"),
             _box(0, -d / 2 + 0.04, h, w, 0.08, top - h, c, "metal")]
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(_box(sx * w * 0.22, 0.06 + sy * d * 0.17, h, 0.14, 0.14, 0.015, DARK[0], "metal"))
    return parts, None


def washer(rng, w, d, h, c):
    return [_box(0, -0.01, 0, w, d - 0.02, h, c, "plain"),
            _box(0, d / 2 - 0.01, h * 0.18, w * 0.55, 0.03, w * 0.55, METALS[1], "glass"),
            _box(0, d / 2 - 0.01, h - 0.15, w - 0.06, 0.02, 0.1, _shade(c, 0.9), "plain"),
            _box(w * 0.3, d / 2 + 0.005, h - 0.12, 0.06, 0.02, 0.06, METALS[0], "metal")], None


def door(rng, w, d, h, c):
    fr = WHITES[0]
    return [_box(-w / 2 + 0.03, 0, 0, 0.06, d, h, fr, "wood"), _box(w / 2 - 0.03, 0, 0, 0.06, d, h, fr, "wood"),
            _box(0, 0, h - 0.06, w, d, 0.06, fr, "wood"),
            _box(0, -0.005, 0, w - 0.12, d - 0.01, h - 0.06, c, "wood"),
            _box(w / 2 - 0.16, d / 2 + 0.0, h * 0.48, 0.12, 0.03, 0.025, METALS[0], "metal")], None


def window(rng, w, d, h, c):
    t = 0.06
    fr = c
    return [_box(0, 0, 0, w + 0.1, d + 0.05, 0.04, fr, "plain"),
            _box(-w / 2 + t / 2, 0, 0.04, t, d, h - 0.04, fr), _box(w / 2 - t / 2, 0, 0.04, t, d, h - 0.04, fr),
            _box(0, 0, h - t, w - 2 * t, d, t, fr), _box(0, 0, 0.04, w - 2 * t, d, t, fr),
            _box(0, 0, 0.04 + t, 0.04, d, h - 0.04 - 2 * t, fr),
            _box(0, -d / 2 + 0.01, 0.04 + t, w - 2 * t, 0.01, h - 0.04 - 2 * t, (0.55, 0.7, 0.85), "glass")], None


def heater(rng, w, d, h, c):
    n = max(4, int(w / 0.06))
    parts = [_box(0, 0, 0.03, w, d * 0.4, 0.05, c, "metal"), _box(0, 0, h - 0.08, w, d * 0.4, 0.05, c, "metal")]
    fw = w / n
    for i in range(n):
        parts.append(_box(-w / 2 + fw * (i + 0.5), 0, 0, fw * 0.6, d, h, c, "metal"))
    return parts, None


def ceiling_light(rng, w, d, h, c):
    return [_box(0, 0, h * 0.6, w * 0.5, d * 0.5, h * 0.4, METALS[0], "metal"),
            _box(0, 0, 0, w, d, h * 0.6, c, "emissive")], None


def whiteboard(rng, w, d, h, c):
    return [_box(0, 0, 0, w, d, h, METALS[0], "metal"), _box(0, 0.005, 0.03, w - 0.06, d, h - 0.06, c, "plaster"),
            _box(0, d / 2 + 0.03, 0.0, w * 0.6, 0.06, 0.025, METALS[0], "metal")], None


def mirror(rng, w, d, h, c):
    return [_box(0, 0, 0, w, d, h, c, "wood"),
            _box(0, 0.005, 0.04, w - 0.08, d, h - 0.08, (0.7, 0.78, 0.82), "glass")], None


def printer(rng, w, d, h, c):
    return [_box(0, 0, 0, w, d, h * 0.75, c, "plain"), _box(0, -d * 0.25, h * 0.75, w * 0.8, d * 0.4, h * 0.25,
                                                              _shade(c, 0.9), "plain"),
            _box(0, d / 2 + 0.04, h * 0.25, w * 0.6, 0.08, 0.015, _shade(c, 0.8)),
            _box(w * 0.3, d / 2 - 0.02, h * 0.6, w * 0.25, 0.02, h * 0.1, DARK[0], "screen")], None


def cardboard_box(rng, w, d, h, c):
    return [_box(0, 0, 0, w, d, h, c, "plain"), _box(0, 0, h - 0.002, 0.06, d + 0.004, 0.004, (0.8, 0.75, 0.6))], None


def _k(name, category, lo, hi, palette, builder) -> Kind:
    return Kind(name, category, lo, hi, tuple(palette), builder)


KINDS: dict[str, Kind] = {k.name: k for k in [
    _k("chair", "chair", (0.44, 0.46, 0.8), (0.54, 0.56, 1.0), FABRICS + WOODS, chair),
    _k("stool", "stool", (0.34, 0.34, 0.6), (0.42, 0.42, 0.78), WOODS, stool),
    _k("dining_table", "table", (1.2, 0.75, 0.72), (1.8, 0.95, 0.77), WOODS + WHITES, table),
    _k("coffee_table", "table", (0.9, 0.5, 0.4), (1.3, 0.7, 0.48), WOODS, table),
    _k("desk", "desk", (1.1, 0.6, 0.72), (1.6, 0.8, 0.77), WOODS + WHITES, desk),
    _k("sofa", "sofa", (1.7, 0.85, 0.8), (2.4, 1.0, 0.92), FABRICS, sofa),
    _k("bed", "bed", (1.4, 1.95, 0.9), (1.8, 2.15, 1.2), FABRICS, bed),
    _k("pillow", "pillow", (0.4, 0.28, 0.12), (0.6, 0.4, 0.18), FABRICS + WHITES + BRIGHT, pillow),
    _k("tv", "tv", (0.9, 0.22, 0.6), (1.45, 0.25, 0.9), DARK, tv),
    _k("monitor", "monitor", (0.5, 0.18, 0.38), (0.7, 0.2, 0.5), DARK, monitor),
    _k("laptop", "laptop", (0.3, 0.21, 0.2), (0.36, 0.25, 0.24), METALS, laptop),
    _k("floor_lamp", "lamp", (0.3, 0.3, 1.4), (0.45, 0.45, 1.75), WHITES + ((0.9, 0.8, 0.55),), lamp),
    _k("table_lamp", "lamp", (0.22, 0.22, 0.4), (0.32, 0.32, 0.6), WHITES + ((0.9, 0.8, 0.55),), lamp),
    _k("cabinet", "cabinet", (0.6, 0.4, 0.75), (1.2, 0.6, 1.1), WOODS + WHITES, cabinet),
    _k("tv_stand", "cabinet", (1.2, 0.4, 0.45), (1.8, 0.5, 0.6), WOODS + WHITES + DARK, cabinet),
    _k("nightstand", "nightstand", (0.4, 0.35, 0.5), (0.55, 0.45, 0.65), WOODS + WHITES, nightstand),
    _k("dresser", "dresser", (1.0, 0.45, 0.8), (1.5, 0.55, 1.0), WOODS + WHITES, dresser),
    _k("bookshelf", "bookshelf", (0.8, 0.3, 1.6), (1.2, 0.4, 2.0), WOODS + WHITES, bookshelf),
    _k("refrigerator", "refrigerator", (0.6, 0.65, 1.7), (0.8, 0.75, 1.9), WHITES + METALS[:1], refrigerator),
    _k("toilet", "toilet", (0.38, 0.65, 0.75), (0.45, 0.75, 0.82), WHITES, toilet),
    _k("sink", "sink", (0.6, 0.46, 1.1), (1.0, 0.55, 1.15), WHITES + METALS[:1], sink),
    _k("bathtub", "bathtub", (1.5, 0.7, 0.5), (1.75, 0.8, 0.6), WHITES, bathtub),
    _k("trash_bin", "trash bin", (0.25, 0.25, 0.35), (0.35, 0.35, 0.6), METALS + BRIGHT, trash_bin),
    _k("plant", "plant", (0.35, 0.35, 0.6), (0.6, 0.6, 1.4), ((0.2, 0.5, 0.2), (0.3, 0.6, 0.25), (0.15, 0.4, 0.2)),
       plant),
    _k("backpack", "backpack", (0.3, 0.18, 0.4), (0.36, 0.25, 0.5), BRIGHT + DARK, backpack),
    _k("microwave", "microwave", (0.45, 0.35, 0.27), (0.55, 0.4, 0.32), WHITES + METALS, microwave),
    _k("stove", "stove", (0.6, 0.6, 1.03), (0.76, 0.65, 1.07), WHITES + METALS[:1], stove),
    _k("washer", "washer", (0.58, 0.58, 0.82), (0.62, 0.62, 0.88), WHITES, washer),
    _k("door", "door", (0.8, 0.05, 2.0), (0.95, 0.06, 2.1), WOODS + WHITES, door),
    _k("window", "window", (0.8, 0.08, 1.0), (1.6, 0.1, 1.4), WHITES + ((0.3, 0.3, 0.32),), window),
    _k("heater", "heater", (0.6, 0.1, 0.45), (1.2, 0.12, 0.65), WHITES, heater),
    _k("ceiling_light", "ceiling light", (0.3, 0.3, 0.08), (0.6, 0.6, 0.15), ((1.0, 0.97, 0.9),), ceiling_light),
    _k("whiteboard", "whiteboard", (1.2, 0.03, 0.9), (2.0, 0.04, 1.2), ((0.96, 0.96, 0.96),), whiteboard),
    _k("mirror", "mirror", (0.5, 0.03, 0.7), (0.9, 0.04, 1.0), WOODS + METALS, mirror),
    _k("printer", "printer", (0.4, 0.35, 0.22), (0.5, 0.45, 0.3), WHITES + DARK, printer),
    _k("box", "box", (0.3, 0.25, 0.2), (0.6, 0.45, 0.45), ((0.7, 0.55, 0.35), (0.65, 0.5, 0.3)), cardboard_box),
]}

CATEGORIES: tuple[str, ...] = tuple(sorted({k.category for k in KINDS.values()}))


@dataclass(frozen=True)
class Rule:
    """How many of a kind a room type gets and how it is placed.

    ``placement``: "wall" (floor, back to a wall), "free" (floor, anywhere), "at:<kinds>" (in front of /
    around a placed table or desk, facing it), "on:<kinds>" (on a placed object's surface),
    "ceiling", "mount:<z0>-<z1>" (on a wall, bottom edge between z0 and z1 metres).
    """

    kind: str
    lo: int
    hi: int
    placement: str


def _rules(*rows) -> tuple[Rule, ...]:
    return tuple(Rule(*r) for r in rows)


COMMON = (("door", 1, 2, "mount:0-0"), ("window", 1, 3, "mount:0.8-1.0"), ("ceiling_light", 1, 3, "ceiling"),
          ("trash_bin", 1, 2, "wall"), ("plant", 1, 3, "wall"))

ROOM_TYPES: dict[str, tuple[Rule, ...]] = {
    "living room": _rules(*COMMON, ("sofa", 1, 1, "wall"), ("coffee_table", 1, 1, "free"),
                          ("tv_stand", 1, 1, "wall"), ("cabinet", 0, 2, "wall"), ("tv", 1, 1, "on:tv_stand"),
                          ("chair", 2, 4, "free"),
                          ("floor_lamp", 1, 2, "wall"), ("bookshelf", 1, 1, "wall"), ("pillow", 2, 4, "on:sofa"),
                          ("heater", 1, 1, "mount:0.1-0.15"), ("box", 0, 2, "free")),
    "bedroom": _rules(*COMMON, ("bed", 1, 1, "wall"), ("nightstand", 1, 2, "wall"), ("pillow", 2, 3, "on:bed"),
                      ("table_lamp", 1, 2, "on:nightstand"), ("dresser", 1, 1, "wall"), ("desk", 1, 1, "wall"),
                      ("chair", 1, 2, "at:desk"), ("laptop", 1, 1, "on:desk"), ("backpack", 1, 2, "wall"),
                      ("heater", 0, 1, "mount:0.1-0.15"), ("box", 0, 2, "wall")),
    "kitchen": _rules(*COMMON, ("refrigerator", 1, 1, "wall"), ("stove", 1, 1, "wall"), ("sink", 1, 1, "wall"),
                      ("cabinet", 2, 4, "wall"), ("microwave", 1, 1, "on:cabinet"), ("dining_table", 1, 1, "free"),
                      ("chair", 2, 6, "at:dining_table"), ("stool", 0, 3, "free")),
    "office": _rules(*COMMON, ("desk", 2, 3, "wall"), ("chair", 2, 4, "at:desk"), ("monitor", 2, 3, "on:desk"),
                     ("laptop", 0, 2, "on:desk"), ("cabinet", 1, 3, "wall"), ("bookshelf", 1, 2, "wall"),
                     ("printer", 1, 1, "on:cabinet"), ("whiteboard", 1, 1, "mount:0.9-1.0"),
                     ("backpack", 1, 2, "free"), ("floor_lamp", 0, 1, "wall")),
    "bathroom": _rules(("door", 1, 1, "mount:0-0"), ("window", 1, 2, "mount:1.0-1.2"),
                       ("ceiling_light", 1, 2, "ceiling"),
                       ("toilet", 1, 1, "wall"), ("sink", 1, 2, "wall"), ("bathtub", 1, 1, "wall"),
                       ("mirror", 1, 1, "mount:1.1-1.3"), ("washer", 1, 1, "wall"), ("cabinet", 2, 3, "wall"),
                       ("trash_bin", 1, 2, "wall"), ("heater", 1, 1, "mount:0.1-0.15"), ("plant", 1, 3, "wall"),
                       ("stool", 0, 1, "free"), ("box", 0, 2, "free")),
}
# A room type's sides (metres): bathrooms are smaller.
ROOM_SIDES: dict[str, tuple[float, float]] = {"bathroom": (3.0, 4.5), "bedroom": (3.5, 6.5), "kitchen": (3.5, 7.0),
                                              "living room": (4.0, 9.0), "office": (4.5, 12.0)}


SQUARE = frozenset({"plant", "lamp", "ceiling light", "stool"})  # round-ish things: square footprint


def build(kind: str, rng: np.random.Generator) -> tuple[list[LocalPart], Surface | None, tuple[float, float, float]]:
    """Make one object of ``kind`` with a random size and colour.

    Returns:
        (parts in the object frame, top surface or None, (w, d, h) sampled size in metres).
    """
    k = KINDS[kind]
    w, d, h = (float(rng.uniform(a, b)) for a, b in zip(k.size_lo, k.size_hi))
    if k.category in SQUARE:
        d = w
    color = k.palette[int(rng.integers(len(k.palette)))]
    parts, surface = k.builder(rng, w, d, h, color)
    return parts, surface, (w, d, h)
