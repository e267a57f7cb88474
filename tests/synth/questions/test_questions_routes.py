"""Free-space grid, geodesics, route planning and the pruned closest-point distance."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spatialmem.geometry.boxes import OrientedBox, parts_distance
from spatialmem.synth.questions import closest_point_distance, generate_questions
from spatialmem.synth.routes import FloorGrid, RouteConfig, RoutePlanner, turn_ok

RECT = [[0.0, 0.0], [6.0, 0.0], [6.0, 4.0], [0.0, 4.0]]
L_POLY = [[0.0, 0.0], [6.0, 0.0], [6.0, 3.0], [3.0, 3.0], [3.0, 6.0], [0.0, 6.0]]


def _b(x, y, sx=0.4, sy=0.4, h=0.8, yaw=0.0):
    return OrientedBox.from_yaw([x, y, h / 2], [sx, sy, h], yaw)


def test_questions_grid_blocks_walls_and_furniture():
    wall = _b(3.0, 2.0, sx=0.4, sy=2.4)  # a long cabinet across the middle, gaps at the top and bottom
    grid = FloorGrid(RECT, {9: wall}, {9: wall})
    assert grid.free[grid.cell_of((1.0, 2.0))] and not grid.free[grid.cell_of((3.0, 2.0))]
    assert not grid.free[grid.cell_of((0.05, 2.0))]  # within the robot radius of a wall
    assert grid.segment_clear((1.0, 0.4), (5.0, 0.4), ()) and not grid.segment_clear((1.0, 2.0), (5.0, 2.0), ())
    assert grid.segment_clear((1.0, 2.0), (5.0, 2.0), (9,))  # the cabinet's own access zone is allowed


def test_questions_geodesic_goes_around_obstacles():
    a, b, wall = _b(1.0, 2.0), _b(5.0, 2.0), _b(3.0, 2.0, sx=0.4, sy=3.0)
    open_grid = FloorGrid(RECT, {1: a, 2: b}, {1: a, 2: b})
    blocked = FloorGrid(RECT, {1: a, 2: b, 9: wall}, {1: a, 2: b})
    straight = open_grid.geodesic(1, 2)
    assert 4.0 - 1e-6 <= straight <= 4.0 * 1.1
    assert blocked.geodesic(1, 2) > straight + 0.5  # detour around the cabinet
    walled = FloorGrid(RECT, {1: a, 2: b, 9: _b(3.0, 2.0, sx=0.4, sy=4.0)}, {1: a, 2: b})
    assert math.isinf(walled.geodesic(1, 2))


def test_questions_planner_routes_around_l_corner():
    # start in the bottom-right arm, target in the top-left arm: the straight line leaves the room
    boxes = {1: _b(5.0, 1.5), 2: _b(5.5, 0.5), 3: _b(1.5, 1.5), 4: _b(1.5, 5.0)}
    grid = FloorGrid(L_POLY, boxes, boxes)
    planner = RoutePlanner(grid, {k: b.center[:2] for k, b in boxes.items()}, [1, 2, 3, 4])
    assert not planner.leg_ok(1, 4)
    route = planner.plan(1, 3, 4, 1)  # at (5, 1.5) facing (1.5, 1.5) -> W1 = (1.5, 1.5), turn to (1.5, 5)
    assert route is not None and route.waypoint_ids == (3,) and route.turns == ("turn right",)
    assert abs(route.turn_angles_deg[0] + 90.0) < 1e-6 and math.isclose(route.length_m, 7.0)
    assert planner.plan(1, 3, 4, 3) is None  # not enough nodes for three waypoints


def test_questions_turn_rules():
    cfg = RouteConfig()
    assert turn_ok(90, cfg) and turn_ok(-60, cfg) and turn_ok(170, cfg) and turn_ok(-150, cfg)
    assert not turn_ok(30, cfg) and not turn_ok(-130, cfg) and not turn_ok(140, cfg)


_part = st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(0, 1), st.floats(0.02, 0.8), st.floats(0.02, 0.8),
                  st.floats(0.02, 0.8), st.floats(-math.pi, math.pi))


@settings(max_examples=40, deadline=None)
@given(a=st.lists(_part, min_size=1, max_size=5), b=st.lists(_part, min_size=1, max_size=5),
       shift=st.floats(0.0, 2.0))
def test_questions_pruned_distance_equals_parts_distance(a, b, shift):
    pa = [OrientedBox.from_yaw([x, y, z], [sx, sy, sz], yaw) for x, y, z, sx, sy, sz, yaw in a]
    pb = [OrientedBox.from_yaw([x + shift, y, z], [sx, sy, sz], yaw) for x, y, z, sx, sy, sz, yaw in b]
    exact = parts_distance(pa, pb)
    assert np.isclose(closest_point_distance(pa, pb), exact, atol=1e-12)
    assert closest_point_distance(pa, pb, upper=exact / 2) <= exact / 2 + 1e-12


def test_questions_planner_first_turn_and_back_to():
    # at (1, 2) facing (5, 2) (east); W1 (1, 3.5) is to the left: a first turn, then east to (5, 3.5)
    boxes = {1: _b(1.0, 2.0), 2: _b(5.0, 2.0), 3: _b(1.0, 3.5), 4: _b(5.0, 3.5)}
    grid = FloorGrid(RECT, boxes, boxes)
    planner = RoutePlanner(grid, {k: b.center[:2] for k, b in boxes.items()}, [1, 3, 4])  # (5, 2) only faced
    route = planner.plan(1, 2, 4, 1, first_turn=True)
    assert route is not None and route.waypoint_ids == (3,)
    assert route.first_turn == "turn left" and route.all_turns == ("turn left", "turn right")
    assert planner.plan(1, 2, 4, 1) is None  # nothing straight ahead to walk to first
    # with its back to (5, 2) the robot faces west: (1, 3.5) is now to its right
    back = planner.plan(1, 2, 4, 1, first_turn=True, back_to=True)
    assert back is not None and back.back_to and back.all_turns == ("turn right", "turn right")


def test_questions_generator_uses_every_route_phrasing(rect_scene, oracle):
    rows = [r for seed in range(4) for r in generate_questions(rect_scene, seed)
            if r["question_type"] == "route_planning"]
    for r in rows:
        oracle.check_row(rect_scene, r)
    texts = [r["question"] for r in rows]
    assert any("actions (Note" in t and "): 1. [please fill in]" in t for t in texts)  # first-step turns
    assert any(" and facing the " in t for t in texts) and any(" with your back to the " in t for t in texts)
    assert any(" facing the " in t and " and facing " not in t for t in texts)


ROUTE_FORMS = {
    "first-step turn": r"\): 1\. \[please fill in\]",
    "written turn then a blank": r"\d+\. Turn (left|right) \d+\. \[please fill in\]",
    "with your back to": r" with your back to the ",
    "is on your left/right ending": r" is on your (left|right)\. You have reached",
    "distance step": r"\d+\. Go forward about (one foot|two feet|1 meter|two steps) \d+\. Go forward until",
    "the closest X": r"Go forward until the closest ",
    "the X by the Y": r"Go forward until the \w[\w ]* by the ",
}


def _route_rows(scenes, seeds):
    return [(sc, r) for sc in scenes for seed in seeds for r in generate_questions(sc, seed)
            if r["question_type"] == "route_planning"]


def _gt_memory(scene):
    from spatialmem.memory.scene import ObjectInstance, Room, SceneMemory

    insts = tuple(ObjectInstance(id=o["id"], category=o["category"], box=OrientedBox.from_dict(o),
                                 first_seen_s=o["first_visible_s"]) for o in scene["objects"]
                  if o["first_visible_s"] is not None)
    poly = np.asarray(scene["room"]["floor_polygon"], float)
    return SceneMemory(scene_id=scene["scene_name"], instances=insts,
                       room=Room(0.0, poly, scene["room"]["floor_area_m2"], 2.8))


def test_generator_writes_every_route_form_and_the_oracle_agrees(rect_scene, lshape_scene, oracle):
    import re

    rows = _route_rows([rect_scene, lshape_scene], range(3))
    for scene, r in rows:
        oracle.check_row(scene, r)
    texts = [r["question"] for _, r in rows]
    missing = [form for form, pat in ROUTE_FORMS.items() if not any(re.search(pat, t) for t in texts)]
    assert not missing, f"no generated route question has: {missing}"


def test_template_planner_answers_every_generated_route_form(rect_scene, lshape_scene):
    from spatialmem.agent.answer import answer_question
    from spatialmem.agent.base import Question
    from spatialmem.agent.template import TemplatePlanner

    planner = TemplatePlanner()
    rows = _route_rows([rect_scene, lshape_scene], range(3))
    memories = {id(sc): _gt_memory(sc) for sc in (rect_scene, lshape_scene)}
    wrong = []
    for scene, r in rows:
        mem = memories[id(scene)]
        rec = answer_question(Question(r["question"], tuple(r["options"]), "route_planning"), mem, planner,
                              mem.summary())
        if rec.answer != r["ground_truth"]:
            wrong.append((r["question"], r["ground_truth"], rec.answer, rec.error))
    assert len(rows) >= 20 and not wrong, wrong[:3]
