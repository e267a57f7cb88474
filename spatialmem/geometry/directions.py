"""Egocentric directions on the floor plane, with the VSI-Bench answer schemes.

A viewer stands at ``position_xy`` (metres, world floor plane) facing the unit vector ``facing_xy``.
Angles are measured on the floor plane in degrees, counter-clockwise from the facing direction,
in (-180, 180]: positive = to the viewer's **left** (the world is z up, right-handed).

Schemes (these definitions are shared by the question generator and the query language):

* ``left_right``: ``left`` if the angle > 0 else ``right`` (boundaries at 0 and 180 degrees).
* ``left_right_back``: ``back`` if |angle| >= 135 ("I would have to turn at least 135 degrees"),
  otherwise left/right by sign.
* ``quadrant``: ``front-left`` (0, 90], ``back-left`` (90, 180], ``front-right`` (-90, 0],
  ``back-right`` (-180, -90]: the Cartesian quadrants with the viewer at the origin facing +y.
* ``clock``: 12 o'clock straight ahead, 3 o'clock to the right: ``round(-angle / 30) mod 12``
  with 0 written as 12.

Turns along a route use :func:`classify_turn`: ``turn back`` when |angle| >= 135, else
``turn left`` / ``turn right`` by sign.
"""

from __future__ import annotations

import numpy as np

SCHEMES: dict[str, tuple[str, ...]] = {
    "left_right": ("left", "right"),
    "left_right_back": ("left", "right", "back"),
    "quadrant": ("front-left", "front-right", "back-left", "back-right"),
    "clock": tuple(f"{h} o'clock" for h in range(1, 13)),
}
_BOUNDARIES_DEG: dict[str, tuple[float, ...]] = {
    "left_right": (0.0, 180.0, -180.0),
    "left_right_back": (0.0, 135.0, -135.0),
    "quadrant": (0.0, 90.0, -90.0, 180.0, -180.0),
    "clock": tuple(15.0 + 30.0 * k for k in range(-6, 6)),
}
BACK_TURN_DEG = 135.0


def signed_angle_deg(facing_xy, direction_xy) -> float:
    """Angle in degrees, (-180, 180], from ``facing_xy`` to ``direction_xy`` (CCW positive)."""
    f = np.asarray(facing_xy, dtype=np.float64)[:2]
    d = np.asarray(direction_xy, dtype=np.float64)[:2]
    ang = float(np.degrees(np.arctan2(f[0] * d[1] - f[1] * d[0], f[0] * d[0] + f[1] * d[1])))
    return 180.0 if ang <= -180.0 else ang


def egocentric(position_xy, facing_xy, point_xy) -> tuple[float, float]:
    """``(right, forward)`` metres of a world floor point in the viewer's frame."""
    f = np.asarray(facing_xy, dtype=np.float64)[:2]
    f = f / np.linalg.norm(f)
    d = np.asarray(point_xy, dtype=np.float64)[:2] - np.asarray(position_xy, dtype=np.float64)[:2]
    right = np.array([f[1], -f[0]])
    return float(d @ right), float(d @ f)


def view_angle_deg(position_xy, facing_xy, point_xy) -> float:
    """Signed angle of a world floor point as seen by the viewer (see module docstring)."""
    d = np.asarray(point_xy, dtype=np.float64)[:2] - np.asarray(position_xy, dtype=np.float64)[:2]
    return signed_angle_deg(facing_xy, d)


def classify_direction(angle_deg: float, scheme: str) -> str:
    """The label of ``angle_deg`` under ``scheme`` (one of :data:`SCHEMES`)."""
    a = float(angle_deg)
    if scheme == "left_right":
        return "left" if a > 0 else "right"
    if scheme == "left_right_back":
        if abs(a) >= BACK_TURN_DEG:
            return "back"
        return "left" if a > 0 else "right"
    if scheme == "quadrant":
        if a > 90:
            return "back-left"
        if a > 0:
            return "front-left"
        if a > -90:
            return "front-right"
        return "back-right"
    if scheme == "clock":
        hour = int(np.round(-a / 30.0)) % 12
        return f"{hour or 12} o'clock"
    raise ValueError(f"unknown direction scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")


def boundary_margin_deg(angle_deg: float, scheme: str) -> float:
    """Degrees from ``angle_deg`` to the nearest bin boundary of ``scheme`` (ambiguity measure)."""
    if scheme not in _BOUNDARIES_DEG:
        raise ValueError(f"unknown direction scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    return float(min(abs(angle_deg - b) for b in _BOUNDARIES_DEG[scheme]))


def classify_turn(angle_deg: float) -> str:
    """``turn left`` / ``turn right`` / ``turn back`` for a change of heading of ``angle_deg``."""
    if abs(angle_deg) >= BACK_TURN_DEG:
        return "turn back"
    return "turn left" if angle_deg > 0 else "turn right"
