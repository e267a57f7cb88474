"""Operations on the camera trajectory and on when things were seen."""

from __future__ import annotations

import numpy as np

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import CAMERAS, P, op
from spatialmem.dsl.runtime import Context, Fail, first_seen, instances, m
from spatialmem.dsl.values import Quantity
from spatialmem.memory.scene import CameraRecord


def _cameras(ctx: Context) -> list[CameraRecord]:
    if not ctx.memory.cameras:
        raise Fail(D.NO_CAMERAS, "this memory has no camera trajectory", "imported memories have no cameras")
    return list(ctx.memory.cameras)


def _category_first_seen(ctx: Context, category: str) -> float:
    insts = instances(ctx, category)
    if not insts:
        raise Fail(D.EMPTY, f'there is no "{category}" in the memory', "see categories() for what exists")
    return min(first_seen(o) for o in insts)


@op("camera", P("t", T.SECONDS), returns=T.CAMERA, section=CAMERAS,
    doc="The camera pose closest to time t seconds.", example="c = camera(2.5)")
def camera(ctx: Context, t: Quantity) -> CameraRecord:
    return min(_cameras(ctx), key=lambda c: (abs(c.timestamp_s - t.value), c.timestamp_s))


@op("cameras", returns=T.list_of(T.CAMERA), section=CAMERAS, doc="The whole camera trajectory, in time order.",
    example="cs = cameras()")
def cameras(ctx: Context) -> tuple[CameraRecord, ...]:
    return tuple(_cameras(ctx))


@op("trajectory_length", returns=T.METRES, section=CAMERAS, doc="Length of the camera path, metres.",
    example="answer(trajectory_length())")
def trajectory_length(ctx: Context) -> Quantity:
    cams = _cameras(ctx)
    pos = np.array([np.asarray(c.world_from_camera)[:3, 3] for c in cams], dtype=np.float64)
    return m(float(np.linalg.norm(np.diff(pos, axis=0), axis=1).sum()) if len(pos) > 1 else 0.0)


@op("first_seen", P("category", T.TEXT, category=True), returns=T.SECONDS, section=CAMERAS,
    doc="When any object of the category was first seen, seconds.", example='first_seen("tv")')
def first_seen_op(ctx: Context, category: str) -> Quantity:
    return Quantity(_category_first_seen(ctx, category), "s")


@op("last_seen", P("category", T.TEXT, category=True), returns=T.SECONDS, section=CAMERAS,
    doc="When any object of the category was last seen, seconds.", example='last_seen("tv")')
def last_seen(ctx: Context, category: str) -> Quantity:
    times = [o.last_seen_s for o in instances(ctx, category) if o.last_seen_s is not None]
    if not times:
        raise Fail(D.NO_TIMES, f"when {category!r} was last seen is unknown", "the memory has no observation times")
    return Quantity(float(max(times)), "s")


@op("appearance_order", P("categories", T.TEXTS, category=True), returns=T.TEXTS, section=CAMERAS,
    doc="The categories sorted by when they were first seen.", example='appearance_order(["chair", "tv", "lamp"])')
def appearance_order(ctx: Context, categories: tuple[str, ...]) -> tuple[str, ...]:
    keyed = [(_category_first_seen(ctx, c), i, c) for i, c in enumerate(categories)]
    return tuple(c for _, _, c in sorted(keyed))
