"""Rendering operations: images of the memory for the model that asked, and showing them."""

from __future__ import annotations

import numpy as np

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import RENDERING, P, Range, op
from spatialmem.dsl.runtime import Context, Fail, describe
from spatialmem.dsl.values import Image, Quantity, View
from spatialmem.geometry.splat import render_view
from spatialmem.memory.scene import ObjectInstance
from spatialmem.memory.topdown import render_topdown

MAX_IMAGE_SIDE = 2048
MAX_LOOKS = 8
#: The allowed width and height of a rendered image, pixels.
IMAGE_SIDE = Range(16, MAX_IMAGE_SIDE, "pixels", resource=True)


@op("render", P("view", T.VIEW), P("width", T.PLAIN, Quantity(320.0), range=IMAGE_SIDE),
    P("height", T.PLAIN, Quantity(240.0), range=IMAGE_SIDE), returns=T.IMAGE, section=RENDERING,
    doc="Image of the memory (points, labelled boxes) seen from a viewpoint.",
    example="look(render(v, width=320, height=240))")
def render(ctx: Context, view: View, width: Quantity, height: Quantity) -> Image:
    px = render_view(ctx.memory, view.position_xy, view.facing_xy, view.z, int(round(width.value)),
                     int(round(height.value)), tick=ctx.tick)
    return Image(px, f"view from ({view.position_xy[0]:.2f}, {view.position_xy[1]:.2f})")


@op("topdown", returns=T.IMAGE, section=RENDERING, doc="Labelled bird's-eye map of the memory.",
    example="look(topdown())")
def topdown(ctx: Context) -> Image:
    return Image(np.asarray(render_topdown(ctx.memory, tick=ctx.tick)), "top-down map")


@op("keyframe", P("obj", T.OBJECT), returns=T.IMAGE, section=RENDERING,
    doc="The stored video frame that best shows an object.", example='look(keyframe(the("tv")))')
def keyframe(ctx: Context, obj: ObjectInstance) -> Image:
    frames = ctx.memory.keyframes
    by_index = {k.frame_index: k for k in frames}
    for idx in obj.keyframe_indices:
        if idx in by_index:
            return Image(by_index[idx].rgb, f"frame {idx} showing {obj.category} #{obj.id}")
    for k in frames:
        if obj.id in k.instance_ids:
            return Image(k.rgb, f"frame {k.frame_index} showing {obj.category} #{obj.id}")
    raise Fail(D.NO_KEYFRAME, f"no stored keyframe shows {describe(obj)}",
               "render a view of it instead: render(stand_at(...)) or topdown()")


@op("look", P("image", T.IMAGE), returns=T.NOTHING, section=RENDERING, doc="Show an image to the model that asked.",
    example="look(topdown())")
def look(ctx: Context, image: Image) -> None:
    if len(ctx.images) >= MAX_LOOKS:
        raise Fail(D.TOO_LARGE, f"look(...) was called more than {MAX_LOOKS} times", "show fewer, more useful images")
    ctx.images.append(image.pixels)
