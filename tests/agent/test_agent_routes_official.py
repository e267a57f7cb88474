"""Route questions in the official VSI-Bench style over a hand-built memory, with hand-worked turns.

The memory is a 4 x 4 grid of objects 2 m apart in an 8 x 8 m room (east = +x, north = +y), so every
turn can be worked out by hand; each case's comment gives the walk. A turn is "left" / "right" by the
sign of the change of heading, "back" from 135 degrees (docs/benchmark.md, "Route semantics").
"""

from __future__ import annotations

import numpy as np
import pytest

from spatialmem.agent.answer import answer_question
from spatialmem.agent.base import Question
from spatialmem.agent.template import TemplatePlanner
from spatialmem.errors import PlanningError
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.scene import ObjectInstance, Room, SceneMemory

#   y=7:  bed (foot at x=1.9)   stool (big)     tv             chair (small)
#   y=5:  vase                  chair (big)     lamp           stool (small)
#   y=3:  sofa                  table           plant          radiator
#   y=1:  coat hanger           door            refrigerator   trash bin
#         x=1                   x=3             x=5            x=7
GRID = [
    ("coat hanger", (1, 1), (0.4, 0.4, 1.7)), ("door", (3, 1), (0.9, 0.1, 2.0)),
    ("refrigerator", (5, 1), (0.7, 0.7, 1.8)), ("trash bin", (7, 1), (0.3, 0.3, 0.4)),
    ("sofa", (1, 3), (0.9, 1.8, 0.8)), ("table", (3, 3), (1.2, 0.8, 0.75)),
    ("plant", (5, 3), (0.4, 0.4, 1.0)), ("radiator", (7, 3), (0.1, 1.0, 0.6)),
    ("vase", (1, 5), (0.2, 0.2, 0.3)), ("chair", (3, 5), (0.6, 0.6, 1.0)),
    ("lamp", (5, 5), (0.3, 0.3, 1.6)), ("stool", (7, 5), (0.3, 0.3, 0.45)),
    ("bed", (1, 7), (1.8, 1.4, 0.6)), ("stool", (3, 7), (0.4, 0.4, 0.5)),
    ("tv", (5, 7), (1.2, 0.1, 0.7)), ("chair", (7, 7), (0.5, 0.5, 0.9)),
]
NOTE = ("You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' "
        "'turn left,' or 'turn right.'): ")
F = "[please fill in]"


def grid_memory() -> SceneMemory:
    insts = tuple(
        ObjectInstance(id=i + 1, category=cat, box=OrientedBox.from_yaw((x, y, s[2] / 2), s, 0.0),
                       first_seen_s=float(i), last_seen_s=float(i) + 1)
        for i, (cat, (x, y), s) in enumerate(GRID)
    )
    poly = np.array([[0, 0], [8, 0], [8, 8], [0, 8]], dtype=np.float64)
    return SceneMemory(scene_id="grid", instances=insts, room=Room(0.0, poly, 64.0, 2.7))


MEMORY = grid_memory()
SUMMARY = MEMORY.summary()
PLANNER = TemplatePlanner()

# (start, "facing the X" | "and facing the X" | "with your back to the X", destination, steps, turns)
CASES = [
    # sofa->table heading E; at table chair is N: left; at chair heading N, lamp E: right
    ("sofa", "facing the table", "lamp",
     ["Go forward until the table", F, "Go forward until the chair", F, "Go forward until the lamp"], "LR"),
    # first step: from sofa facing E, vase N: left; heading N, chair E: right; heading E, tv at 45 deg: left
    ("sofa", "facing the table", "tv", [F, "Go forward until the vase", F, "Go forward until the chair", F,
                                        "Go forward until the tv"], "LRL"),
    # table facing E, sofa W: back; heading W, coat hanger S: left
    ("table", "facing the plant", "coat hanger", [F, "Go forward until the sofa", F,
                                                   "Go forward until the coat hanger"], "BL"),
    # back to the plant = facing W: sofa ahead; heading W, coat hanger S: left
    ("table", "with your back to the plant", "coat hanger", ["Go forward until the sofa", F,
                                                             "Go forward until the coat hanger"], "L"),
    # table facing E, door S: right
    ("table", "and facing the plant", "door", [F, "Go forward until the door"], "R"),
    # bed->tv E; lamp S: right; heading S, radiator at -45: left; heading -45, refrigerator at -135: right
    ("bed", "facing the tv", "refrigerator",
     ["Go forward until the tv", F, "Go forward until the lamp", F, "Go forward until the radiator", F,
      "Go forward until the refrigerator is on your right"], "RLR"),
    # couch=sofa facing television=tv (heading 45); fridge at -26.6: right; heading -26.6, trash can E: left
    ("couch", "facing the television", "trash can", [F, "Go forward until the fridge", F,
                                                      "Go forward until the trash can"], "RL"),
    # dinning table = table, facing W; plant E: back; stool by the radiator = (7, 5) at 45: left
    ("dinning table", "facing the sofa", "stool by the radiator",
     [F, "Go forward until the plant", F, "Go forward until the stool by the radiator"], "BL"),
    # tv facing S; at lamp the closest chair is (3, 5) W: right; heading W, table S: left; coat hanger at -135: right
    ("tv", "facing the lamp", "coat hanger",
     ["Go forward until the lamp", F, "Go forward until the closest chair", F, "Go forward until the table", F,
      "Go forward until the coat hanger"], "RLR"),
    # lamp facing N; at tv the closest chair is (7, 7) E: right (the big chair would be a turn back); radiator S: right
    ("lamp", "facing the tv", "radiator",
     ["Go forward until the tv", F, "Go forward until the closest chair", F, "Go forward until the radiator"], "RR"),
    # vase facing E; foot of the bed (1.9, 7) at 65.8 deg: left; then tv E: right
    ("vase", "facing the chair", "tv", [F, "Go forward until the foot of the bed", F, "Go forward until the tv"],
     "LR"),
    # sofa facing E; one foot on: (1.30, 3); vase at 98.5: left; chair E (-98.5): right; tv at 45: left
    ("sofa", "facing the table", "tv",
     ["Go forward about one foot", F, "Go forward until the vase", F, "Go forward until the chair", F,
      "Go forward until the tv"], "LRL"),
    # table facing E; turn to face the chair (N): left; 1 m on, then to the chair; vase W: left
    ("table", "facing the plant", "vase",
     [F, "Go forward about 1 meter", "Go forward until the chair", F, "Go forward until the vase"], "LL"),
    # tv facing S; written right turn at lamp; at chair heading W, sofa at -135: left (+45)
    ("tv", "facing the lamp", "sofa",
     ["Go forward until the lamp", "Turn right", "Go forward until the chair", F, "Go forward until the sofa"], "L"),
    # plant facing E; fill-in then a written left = W overall: left; heading W, door S: left
    ("plant", "facing the radiator", "door",
     [F, "Turn left", "Go forward until the table", F, "Go forward until the door"], "LL"),
    # plant facing E; written turn back; table W ahead; door S: left; trash bin E: left
    ("plant", "facing the radiator", "trash bin",
     ["Turn back", "Go forward until the table", F, "Go forward until the door", F, "Go forward until the trash bin"],
     "LL"),
    # door facing N; sofa W: left; vase N: right; chair E: right
    ("door", "facing the table", "chair",
     ["Go forward until the table", F, "Go forward until the sofa", F, "Go forward until the vase", F,
      "Go forward until the chair"], "LRR"),
    # refrigerator facing E; plant N: left; table W: left; chair N: right; lamp E: right
    ("refrigerator", "facing the trash bin", "lamp",
     [F, "Go forward until the plant", F, "Go forward until the table", F, "Go forward until the chair", F,
      "Go forward until the lamp"], "LLRR"),
    # radiator facing W; lamp N: right; small stool (by the radiator) E: right; closest chair (7, 7) N: left
    ("radiator", "facing the plant", "chair",
     ["Go forward until the plant", F, "Go forward until the lamp", F, "Go forward until the stool by the radiator",
      F, "Go forward until the closest chair"], "RRL"),
    # back to the tv = facing S; table W: right; door S: left; coat hanger W: right
    ("lamp", "with your back to the tv", "coat hanger",
     ["Go forward until the plant", F, "Go forward until the table", F, "Go forward until the door", F,
      "Go forward until the coat hanger"], "RLR"),
    # back to the sofa = facing E; door S: right; refrigerator E: left
    ("table", "with your back to the sofa", "refrigerator", [F, "Go forward until the door", F,
                                                              "Go forward until the refrigerator"], "RL"),
    # chair facing E; vase W: back; bed N: right
    ("chair", "facing the lamp", "bed", [F, "Go forward until the vase", F, "Go forward until the bed"], "BR"),
    # sofa facing E; chair N: left; table S: back; sofa W: right
    ("sofa", "facing the table", "sofa",
     ["Go forward until the table", F, "Go forward until the chair", F, "Go forward until the table", F,
      "Go forward until the sofa"], "LBR"),
    # plant facing S; garbage can = trash bin E: left
    ("plant", "facing the refrigerator", "trash bin",
     ["Go forward until the refrigerator", F, "Go forward until the garbage can is on your left"], "L"),
    # the stool = the big one (3, 7) facing W; tv E: back; lamp S: right
    ("stool", "facing the bed", "lamp", [F, "Walk forward until you reach the TV", F, "Go forward until the lamp"],
     "BR"),
    # stool by the radiator (7, 5) facing W; radiator S: left; plant W: right; lamp N: right
    ("stool by the radiator", "facing the lamp", "lamp",
     [F, "Go forward until the radiator", F, "Go forward until the plant", F, "Go forward until the lamp"], "LRR"),
    # sofa facing N; vase of flowers ahead; chair E: right; stool (3, 7) N: left; tv E: right
    ("sofa", "facing the vase of flowers", "tv",
     ["Go forward until the vase of flowers", F, "Go forward until the chair", F, "Go forward until the stool", F,
      "Go forward until the tv"], "RLR"),
    # vase facing S; foot of the bed at 65.8 deg (155.8 from S): back; stool E: right
    ("vase", "facing the sofa", "stool", [F, "Go forward until the foot of the bed", F, "Go forward until the stool"],
     "BR"),
    # plant facing N; 3 feet on: (5, 3.91); radiator at -24.5 (-114.5): right; trash bin S (-65.5): right
    ("plant", "facing the lamp", "trash bin",
     ["Go forward about 3 feet", F, "Go forward until the radiator", F, "Go forward until the trash bin"], "RR"),
    # coat hanger facing E; written left at the door; plant E: right; lamp N: left
    ("coat hanger", "facing the door", "lamp",
     ["Go forward until the door", "Turn left", "Go forward until the table", F, "Go forward until the plant", F,
      "Go forward until the lamp"], "RL"),
    # trash bin facing W; plant N: right; table W: left; chair N: right
    ("trash bin", "facing the refrigerator", "chair",
     ["Go forward until the refrigerator", F, "Go forward until the plant", F, "Go forward until the table", F,
      "Go forward until the chair"], "RLR"),
    # tv facing W; lamp S: left; stool by the radiator E: left; radiator S: right
    ("tv", "facing the stool", "radiator",
     [F, "Go forward until the lamp", F, "Go forward until the stool by the radiator", F,
      "Go forward until the radiator"], "LLR"),
    # bed facing S; chair E: left; table S: right; plant E: left
    ("bed", "facing the vase", "plant",
     ["Go forward until the vase", F, "Go forward until the chair", F, "Go forward until the table", F,
      "Go forward until the plant"], "LRL"),
    # couch facing the coat rack (S); door E: left
    ("couch", "and facing the coat rack", "door", ["Go forward until the coat rack", F, "Go forward until the door"],
     "L"),
    # lamp facing N; small stool E: right; radiator S: right; plant W: right
    ("lamp", "facing the television", "plant",
     [F, "Go forward until the stool by the radiator", F, "Go forward until the radiator", F,
      "Go forward until the plant"], "RRR"),
    # door facing E; plant N: left; radiator E: right
    ("door", "facing the fridge", "radiator",
     ["Go forward until the fridge", F, "Go forward until the plant", F, "Go forward until the radiator"], "LR"),
    # table facing S; plant E: left; lamp N: left; at lamp the closest chair (3, 5) W: left
    ("table", "facing the door", "chair",
     [F, "Go forward until the plant", F, "Go forward until the lamp", F, "Go forward until the closest chair"],
     "LLL"),
    # nightstand-free room: trash can = trash bin; from refrigerator facing N (plant); radiator E... heading N: right
    ("refrigerator", "facing the plant", "trash can",
     ["Go forward until the plant", F, "Go forward until the radiator", F, "Go forward until the trash can"], "RR"),
]
LABEL = {"L": "Turn Left", "R": "Turn Right", "B": "Turn Back"}


def route_text(start, facing, dest, steps, layout):
    """An official-style route question; ``layout`` "line" = numbered steps in one line, "lines" = one per line."""
    sep = " " if layout == "line" else "\n"
    body = sep.join(f"{i + 1}. {s}" for i, s in enumerate(steps))
    return (f"You are a robot beginning at the {start} {facing}. You want to navigate to the {dest}. {NOTE}"
            f"{body}{sep}You have reached the final destination.")


def options_for(turns: str) -> tuple[str, ...]:
    """The right sequence and three others (each differs in one place), in a fixed order, lettered A-D."""
    seqs = [turns]
    for i in range(len(turns)):
        for c in "LRB":
            alt = turns[:i] + c + turns[i + 1:]
            if alt not in seqs and len(seqs) < 4:
                seqs.append(alt)
    seqs.sort()
    return tuple(f"{'ABCD'[k]}. " + ", ".join(LABEL[c] for c in s) for k, s in enumerate(seqs))


PARAMS = [pytest.param(*case, layout, id=f"{i:02d}-{layout}")
          for i, case in enumerate(CASES) for layout in (("line", "lines") if i % 3 == 0 else ("line",))]


def test_there_are_at_least_forty_official_style_questions():
    assert len(PARAMS) >= 40
    assert sum(1 for c in CASES if c[3][0] == F) >= 15  # first-step turns
    assert {c[1].split()[0] for c in CASES} == {"facing", "and", "with"}


@pytest.mark.parametrize("start, facing, dest, steps, turns, layout", PARAMS)
def test_official_route_question(start, facing, dest, steps, turns, layout):
    options = options_for(turns)
    q = Question(route_text(start, facing, dest, steps, layout), options, "route_planning")
    rec = answer_question(q, MEMORY, PLANNER, SUMMARY)
    assert not rec.error, f"{rec.error}\n{rec.program}"
    want = next(o for o in options if o[3:] == ", ".join(LABEL[c] for c in turns))
    assert rec.answer == want[0], (rec.program, rec.trace)


def test_landmark_reasoning_is_in_the_notes():
    case = CASES[9]  # lamp facing tv, closest chair
    plan = PLANNER.plan(Question(route_text(*case[:4], "line"), options_for(case[4])), SUMMARY)
    assert "nearest_from(v1, \"chair\")" in plan.program
    assert any("nearest the robot's current position" in n for n in plan.notes["resolved"])
    case = CASES[6]  # couch / television / fridge / trash can
    plan = PLANNER.plan(Question(route_text(*case[:4], "line"), options_for(case[4])), SUMMARY)
    assert '"couch" -> "sofa" (synonym)' in plan.notes["resolved"]
    assert '"fridge" -> "refrigerator" (synonym)' in plan.notes["resolved"]


@pytest.mark.parametrize("steps, match", [
    ([F, "Go forward until the piano"], 'landmark "piano" names no object'),
    ([F, F, "Go forward until the lamp"], "2 '\\[please fill in\\]' in a row"),
    (["Go forward until the lamp", F], "ends with a turn to fill in"),
    (["Sing a song", F, "Go forward until the lamp"], "is neither a turn"),
    (["Go forward until the lamp"], "no '\\[please fill in\\]' turn"),
])
def test_unplannable_routes_name_the_problem(steps, match):
    q = Question(route_text("sofa", "facing the table", "lamp", steps, "line"), ("A. Turn Left",), "route_planning")
    with pytest.raises(PlanningError, match=match):
        PLANNER.plan(q, SUMMARY)


def test_foot_of_the_bed_is_the_end_away_from_the_wall():
    from spatialmem.dsl import run_program

    v = 'v = stand_at(the("vase"), facing=the("sofa"))\n'
    foot = run_program(v + 'answer(walk_to(v, the("bed"), at="foot").position)', MEMORY).answer
    head = run_program(v + 'answer(walk_to(v, the("bed"), at="head").position)', MEMORY).answer
    assert np.allclose(np.array(foot, float), [1.9, 7.0]) and np.allclose(np.array(head, float), [0.1, 7.0])
