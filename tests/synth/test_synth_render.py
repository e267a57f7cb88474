"""Renderers: GL and CPU agree, outputs follow the OpenCV camera conventions."""

from __future__ import annotations

import numpy as np
import pytest

from spatialmem import registry
from spatialmem.geometry.se3 import look_at
from spatialmem.synth.mesh import build_mesh
from spatialmem.synth.scene_spec import Part, RoomSpec, SceneObject, SceneSpec
from spatialmem.synth.writer import generate_scene
from spatialmem.types import Intrinsics

from .conftest import egl_available

HAVE_EGL, WHY = egl_available()
K = Intrinsics.from_fov(96, 72, 60.0)


@pytest.fixture(scope="module")
def scene():
    spec, mesh, _ = generate_scene(4, 12, 10.0)
    return spec, mesh


def _one_box_scene():
    from spatialmem.geometry.boxes import OrientedBox

    box = OrientedBox([0.0, 0.0, 0.5], [1.0, 1.0, 1.0], np.eye(3))
    obj = SceneObject(1, "box", box, (Part(box, (0.8, 0.2, 0.2), 0),))
    room = RoomSpec("rect", np.array([[-5, -5], [5, -5], [5, 5], [-5, 5]], float), 3.0, ())
    return SceneSpec(0, room, (obj,), np.zeros((0, 4, 4)), 10.0)


@pytest.mark.parametrize("name", ["cpu", pytest.param("gl", marks=pytest.mark.gl)])
def test_renderer_conventions_on_a_single_box(name):
    if name == "gl" and not HAVE_EGL:
        pytest.skip(WHY)
    r = registry.build("renderer", name, build_mesh(_one_box_scene()))
    T = look_at([0.0, -3.0, 0.5], [0.0, 0.0, 0.5])  # box face at y = -0.5 is 2.5 m ahead
    rgb, depth, inst = r.render(K, T)
    assert rgb.shape == (72, 96, 3) and rgb.dtype == np.uint8
    assert depth.dtype == np.float32 and inst.dtype == np.int32
    cy, cx = 36, 48
    assert inst[cy, cx] == 1 and abs(depth[cy, cx] - 2.5) < 1e-4
    assert inst[0, 0] == 0 and depth[0, 0] == 0.0  # no room structure: nothing behind
    # the box is 1 m wide at 2.5 m: it spans fx / 2.5 pixels around the centre column
    cols = np.nonzero(inst[cy] == 1)[0]
    assert abs((cols.max() - cols.min() + 1) - K.fx / 2.5) <= 2
    # the box bottom is at z = 0 = 0.5 m below the optical axis -> lower image rows (y down)
    rows = np.nonzero(inst[:, cx] == 1)[0]
    assert abs(rows.max() - (K.cy + K.fy * 0.5 / 2.5)) <= 1.5
    if hasattr(r, "close"):
        r.close()


@pytest.mark.gl
def test_gl_and_cpu_renderers_agree(scene):
    if not HAVE_EGL:
        pytest.skip(WHY)
    spec, mesh = scene
    gl, cpu = registry.build("renderer", "gl", mesh), registry.build("renderer", "cpu", mesh)
    for i in (0, 6, 11):
        rgb_g, d_g, i_g = gl.render(K, spec.poses[i])
        rgb_c, d_c, i_c = cpu.render(K, spec.poses[i])
        assert (i_g == i_c).mean() > 0.99
        assert (np.abs(d_g - d_c) < 1e-3).mean() > 0.99
        assert np.abs(rgb_g.astype(int) - rgb_c).mean() < 3.0
    gl.close()


def test_frames_have_texture_for_feature_matching(scene):
    spec, mesh = scene
    rgb, _, _ = registry.build("renderer", "cpu", mesh).render(Intrinsics.from_fov(192, 144, 60.0), spec.poses[5])
    gray = rgb.astype(float).mean(axis=2)
    grad = np.abs(np.diff(gray, axis=1))
    assert (grad > 2).mean() > 0.2  # procedural texture everywhere, not flat colours


def test_auto_renderer_falls_back_to_cpu_with_a_warning(monkeypatch, scene):
    from spatialmem.errors import RenderError
    from spatialmem.synth import writer

    def broken(*a, **k):
        raise RenderError("no EGL")

    real = registry.build
    monkeypatch.setattr(writer.registry, "build", lambda kind, name, *a, **k: broken() if name == "gl"
                        else real(kind, name, *a, **k))
    with pytest.warns(RuntimeWarning, match="CPU renderer"):
        r = writer.make_renderer("auto", scene[1])
    assert r.name == "cpu"
