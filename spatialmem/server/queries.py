"""Programs, questions and renders over one memory, as JSON-able dicts and PNG bytes.

Used by the API for served memories and live sessions alike; the query language, the planners and
the renderers are the library's own (``spatialmem.dsl``, ``spatialmem.agent``, ``geometry.splat``,
``memory.topdown``); library errors propagate and become problem details (see :mod:`.problems`).
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from spatialmem.memory.scene import SceneMemory
from spatialmem.server.problems import ApiProblem, diagnostic_dict


def png_bytes(rgb: np.ndarray) -> bytes:
    """PNG encoding of an (H, W, 3) uint8 image (fast compression)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _check_program(source: str, max_chars: int) -> None:
    if len(source) > max_chars:
        raise ApiProblem(413, "Program too large", f"the program has {len(source)} characters; the limit is "
                         f"{max_chars}")


def run_program_dict(memory: SceneMemory, source: str, max_chars: int, timeout_s: float,
                     with_images: bool = False) -> dict[str, Any]:
    """Parse, check and run ``source``; the result as the CLI's ``run --json`` prints it.

    Raises:
        ProgramError / ProgramRuntimeError: with diagnostics (422, or 408 for the time/step limit).
    """
    from spatialmem.dsl import Limits, run_program

    _check_program(source, max_chars)
    result = run_program(source, memory, Limits(max_seconds=timeout_s))
    answer = result.answer
    if not isinstance(answer, (int, float, str, bool, list)) or answer is None:
        answer = result.answer_text
    out: dict[str, Any] = {"ok": True, "answer": answer, "answer_text": result.answer_text,
                           "value_type": result.value_type, "trace": list(result.trace),
                           "images": len(result.images), "steps": result.steps,
                           "elapsed_s": round(result.elapsed_s, 6)}
    if with_images:
        out["image_data"] = ["data:image/png;base64," + base64.b64encode(png_bytes(im)).decode()
                             for im in result.images]
    return out


def check_program_dict(memory: SceneMemory, source: str, max_chars: int) -> dict[str, Any]:
    """Static diagnostics only (nothing runs): ``{"ok", "diagnostics"}``."""
    from spatialmem.dsl import check, parse
    from spatialmem.errors import ProgramError

    _check_program(source, max_chars)
    try:
        diags = check(parse(source), memory)
    except ProgramError as exc:
        diags = list(exc.diagnostics)
    return {"ok": not diags, "diagnostics": [diagnostic_dict(d) for d in diags]}


def ask_dict(memory: SceneMemory, question: str, options: list[str], question_type: str | None, planner: str,
             llm=None) -> dict[str, Any]:
    """Answer a question with a planner (``spatialmem ask --json``'s record)."""
    from spatialmem.agent.answer import answer_question
    from spatialmem.agent.base import PlannerConfig, Question, build_planner

    plan = build_planner(planner, PlannerConfig(llm=llm))
    q = Question(text=question, options=tuple(options), question_type=question_type or None, id="ask")
    return answer_question(q, memory, plan).to_dict()


def topdown_png(memory: SceneMemory, width: int) -> bytes:
    from spatialmem.memory.topdown import render_topdown

    return png_bytes(render_topdown(memory, width_px=width))


def view_png(memory: SceneMemory, x: float, y: float, facing_x: float, facing_y: float, z: float | None,
             width: int, height: int, hfov_deg: float) -> bytes:
    """A point-splat view from (x, y) facing (facing_x, facing_y); ``z`` defaults to 1.5 m above the floor."""
    from spatialmem.geometry.splat import render_view

    if not np.isfinite([x, y, facing_x, facing_y]).all() or np.hypot(facing_x, facing_y) < 1e-9:
        raise ApiProblem(400, "Invalid view", "x, y, facing_x, facing_y must be finite and the facing non-zero")
    if z is None:
        z = (memory.room.floor_z if memory.room is not None else 0.0) + 1.5
    return png_bytes(render_view(memory, (x, y), (facing_x, facing_y), z, width, height, hfov_deg=hfov_deg))


def keyframe_png(memory: SceneMemory, object_id: int) -> bytes:
    """The stored keyframe that best shows object ``object_id`` (the DSL's ``keyframe(obj)``)."""
    from spatialmem.dsl.ops.rendering import keyframe
    from spatialmem.dsl.runtime import Context, Fail

    try:
        inst = memory.instance(object_id)
    except KeyError:
        raise ApiProblem(404, "Object not found", f"memory {memory.scene_id!r} has no object {object_id}") from None
    try:
        return png_bytes(keyframe(Context(memory), inst).pixels)
    except Fail as f:
        raise ApiProblem(404, "No keyframe", f.message) from None


def frame_png(memory: SceneMemory, frame_index: int, width: int | None) -> bytes:
    """A stored keyframe by frame index, optionally downscaled to ``width`` (thumbnails)."""
    for k in memory.keyframes:
        if k.frame_index == frame_index:
            rgb = k.rgb
            if width is not None and width < rgb.shape[1]:
                h = max(1, round(rgb.shape[0] * width / rgb.shape[1]))
                rgb = np.asarray(Image.fromarray(rgb).resize((width, h), Image.BILINEAR))
            return png_bytes(rgb)
    raise ApiProblem(404, "No keyframe", f"memory {memory.scene_id!r} stores no keyframe {frame_index}")
