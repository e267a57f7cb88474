"""Units and number formatting, option parsing, category suggestions, and the splatting renderer."""

from __future__ import annotations

import numpy as np
import pytest

from spatialmem.dsl import types as T
from spatialmem.dsl.ops.answers import normalize, parse_options
from spatialmem.dsl.values import format_number
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.geometry.splat import render_view
from spatialmem.memory.scene import ObjectInstance, SceneMemory
from spatialmem.vocab import suggest_category


@pytest.mark.parametrize("a, b, add, mul, div", [
    ("m", "m", "m", "m2", "none"), ("m", "none", "m", "m", "m"), ("m2", "m", None, "m3", "m"),
    ("m3", "m2", None, None, "m"), ("count", "count", "count", "count", "none"), ("s", "m", None, None, None),
    ("cm", "m", None, None, None), ("none", "deg", "deg", "deg", None),
])
def test_unit_algebra(a, b, add, mul, div):
    for fn, want in ((T.add_unit, add), (T.mul_unit, mul), (T.div_unit, div)):
        if want is None:
            with pytest.raises(ValueError):
                fn(a, b)
        else:
            assert fn(a, b) == want


def test_mismatch():
    assert T.mismatch(T.PLAIN, T.METRES) is None  # a literal fits any unit
    assert T.mismatch(T.SECONDS, T.METRES) is T.Mismatch.UNIT
    assert T.mismatch(T.TEXT, T.OBJECT) is T.Mismatch.TYPE
    assert T.mismatch(T.OBJECTS, T.list_of(T.OBJECT)) is None
    assert T.mismatch(T.list_of(T.ANY), T.TEXTS) is None
    assert T.mismatch(T.CENTIMETRES, T.union(T.METRES, T.CENTIMETRES)) is None
    assert T.mismatch(T.SQ_METRES, T.union(T.METRES, T.CENTIMETRES)) is T.Mismatch.UNIT
    assert str(T.list_of(T.METRES)) == "List[Number[m]]"


@pytest.mark.parametrize("x, unit, text", [
    (2.4, "m", "2.4"), (2.0, "m", "2"), (3.0, "count", "3"), (2.999, "m", "3"), (0.125, "m", "0.12"),
    (-0.001, "m", "0"), (1234.5678, "cm", "1234.57"), (0.0, "none", "0"),
])
def test_format_number(x, unit, text):
    assert format_number(x, unit) == text


def test_option_parsing_and_normalisation():
    assert parse_options(["A. left", "B) right", "(C) back", "front"]) == [
        ("A", "left"), ("B", "right"), ("C", "back"), ("D", "front")]
    assert normalize("Front-Left") == normalize("front  left") == "front left"


def test_suggest_category():
    cats = ["bed", "chair", "nightstand", "plant", "sofa", "trash bin", "tv"]
    assert suggest_category("couch", cats)[0] == "sofa"
    assert suggest_category("Television", cats)[0] == "tv"
    assert suggest_category("garbage can", cats)[0] == "trash bin"
    assert suggest_category("bin", cats)[0] == "trash bin"
    assert suggest_category("chairs", cats)[0] == "chair"
    assert suggest_category("night stand", cats)[0] == "nightstand"
    assert suggest_category("potted plant", cats)[0] == "plant"
    assert suggest_category("sofaa", cats)[0] == "sofa"
    assert suggest_category("zebra", cats) == []


def _cloud(center, color, n=400, half=0.2):
    g = np.linspace(-half, half, int(np.sqrt(n)))
    yy, zz = np.meshgrid(g, g)
    pts = np.stack([np.full(yy.size, 0.0), yy.ravel(), zz.ravel()], axis=1) + np.asarray(center)
    return pts.astype(np.float32), np.tile(np.array(color, np.uint8), (len(pts), 1))


def test_splat_z_buffer_keeps_the_nearest_surface():
    near_p, near_c = _cloud((2.0, 0.0, 1.0), (255, 0, 0))
    far_p, far_c = _cloud((4.0, 0.0, 1.0), (0, 0, 255), half=1.0)
    # order the far points last so that a naive painter would let them win
    mem = SceneMemory("z", (), points_world=np.concatenate([near_p, far_p]),
                      colors_rgb=np.concatenate([near_c, far_c]))
    img = render_view(mem, (0.0, 0.0), (1.0, 0.0), 1.0, 64, 48, labels=False)
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    w = 64
    # the near square projects near the image centre (camera pitched slightly down: it sits a bit above)
    ys, xs = np.nonzero((img[..., 0] == 255) & (img[..., 2] == 0))
    assert len(xs) > 20
    assert abs(xs.mean() - (w - 1) / 2) < 2
    centre = img[int(ys.mean()), int(xs.mean())]
    assert tuple(centre) == (255, 0, 0)
    assert ((img[..., 2] == 255) & (img[..., 0] == 0)).sum() > 20  # the far plane shows around it


def test_render_draws_box_wireframes_without_points():
    box = OrientedBox.axis_aligned((2.0, -0.5, 0.0), (3.0, 0.5, 1.0))
    mem = SceneMemory("w", (ObjectInstance(1, "crate", box),))
    img = render_view(mem, (0.0, 0.0), (1.0, 0.0), 1.5, 80, 60)
    background = (img == img[0, 0]).all(axis=2)
    assert 0 < (~background).sum() < background.size * 0.5
    behind = render_view(mem, (0.0, 0.0), (-1.0, 0.0), 1.5, 80, 60)
    assert (behind == behind[0, 0]).all()  # nothing behind the viewer is drawn
