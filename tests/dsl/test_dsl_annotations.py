"""Programs over memories made by the annotation importer give the independently computed values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spatialmem.dsl import run_program
from spatialmem.geometry.boxes import OrientedBox, box_distance
from spatialmem.geometry.directions import classify_direction, view_angle_deg
from spatialmem.memory import annotations as importer


def _scene(tmp_path):
    rng = np.random.default_rng(7)
    cats = ["sofa", "tv", "bed", "lamp", "chair", "chair", "table"]
    objs = []
    for i, c in enumerate(cats):
        yaw = float(rng.uniform(-np.pi, np.pi))
        ca, sa = np.cos(yaw), np.sin(yaw)
        objs.append({"category": c, "center": [float(v) for v in rng.uniform([0, 0, 0.2], [6, 5, 1.2])],
                     "size": [float(v) for v in rng.uniform(0.3, 2.0, 3)],
                     "axes": [[ca, sa, 0.0], [-sa, ca, 0.0], [0.0, 0.0, 1.0]], "first_seen_s": float(i)})
    doc = {"scene_id": "ann", "up": "z", "objects": objs,
           "room": {"floor_polygon": [[0, 0], [6, 0], [6, 5], [0, 5]]}}
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(doc))
    return importer.import_annotations(path), objs


def _box(o):
    return OrientedBox(o["center"], o["size"], o["axes"])


def test_values_match_independent_computation(tmp_path):
    mem, objs = _scene(tmp_path)
    by = {o["category"]: o for o in objs if o["category"] != "chair"}
    d = run_program('answer(distance(the("sofa"), the("tv")))', mem).answer
    assert d == pytest.approx(box_distance(_box(by["sofa"]), _box(by["tv"])), abs=1e-6)
    ls = run_program('answer(the("bed").longest_side)', mem).answer
    assert ls == pytest.approx(max(by["bed"]["size"]), abs=1e-6)
    assert run_program('answer(count(objects("chair")))', mem).answer == 2
    assert run_program("answer(room_area())", mem).answer == pytest.approx(30.0)
    a, b, c = (np.array(by[k]["center"]) for k in ("sofa", "tv", "lamp"))
    ang = view_angle_deg(a[:2], b[:2] - a[:2], c[:2])
    for scheme in ("left_right", "left_right_back", "quadrant", "clock"):
        got = run_program(f'v = stand_at(the("sofa"), facing=the("tv"))\n'
                          f'answer(direction(v, the("lamp"), scheme="{scheme}"))', mem).answer_text
        assert got == classify_direction(ang, scheme)
    order = run_program('answer(appearance_order(["table", "lamp", "sofa"]))', mem).answer
    assert order == ["sofa", "lamp", "table"]
