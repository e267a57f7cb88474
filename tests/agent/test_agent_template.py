"""The template planner on every VSI-Bench phrasing and the small variants (exact program text)."""

from __future__ import annotations

import pytest

from spatialmem.agent.base import Question
from spatialmem.agent.template import TemplatePlanner
from spatialmem.errors import PlanningError
from spatialmem.synth import templates as T
from spatialmem.vocab import resolve_category

SUMMARY = {
    "categories": {
        "bed": 1, "ceiling light": 1, "chair": 3, "door": 1, "lamp": 1, "sofa": 1, "table": 1, "trash bin": 1,
        "tv": 1, "shelf": 2,
    }
}
PLANNER = TemplatePlanner()
ROUTE_NOTE = (
    "You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' "
    "'turn left,' or 'turn right.'): "
)


def plan(text, options=(), qtype=None, summary=SUMMARY):
    return PLANNER.plan(Question(text, tuple(options), qtype), summary).program


@pytest.mark.parametrize(
    "text, expected",
    [
        ("How many chair(s) are in this room?", 'answer(count(objects("chair")))'),
        ("How many chairs are in this room?", 'answer(count(objects("chair")))'),
        ("how many CHAIR(S) are there in the room?", 'answer(count(objects("chair")))'),
        ("How many ceiling light(s) are in this room?", 'answer(count(objects("ceiling light")))'),
        ("How many ceiling lights are in\nthis room?", 'answer(count(objects("ceiling light")))'),
        ("How many shelves are in this room?", 'answer(count(objects("shelf")))'),
        ("How many couches are in this room?", 'answer(count(objects("sofa")))'),
    ],
)
def test_counting_variants(text, expected):
    assert plan(text) == expected


def test_generator_templates_all_plan_to_contract_programs():
    assert plan(T.COUNTING.format(category="trash bin")) == 'answer(count(objects("trash bin")))'
    assert plan(T.SIZE.format(category="sofa")) == 'answer(to_cm(the("sofa").longest_side))'
    assert plan(T.ABS_DISTANCE.format(a="sofa", b="tv")) == 'answer(distance(the("sofa"), the("tv")))'
    assert plan(T.ABS_DISTANCE_DIRECT.format(a="trash bin", b="ceiling light")) == (
        'answer(distance(the("trash bin"), the("ceiling light")))'
    )
    assert plan(T.ROOM_SIZE) == "answer(room_area())"
    opts = ["A. chair", "B. lamp", "C. tv", "D. sofa"]
    assert plan(T.REL_DISTANCE.format(c1="chair", c2="lamp", c3="tv", c4="sofa", category="bed"), opts) == (
        'answer(choose(["A. chair", "B. lamp", "C. tv", "D. sofa"], '
        'nearest(the("bed"), among=["chair", "lamp", "tv", "sofa"])))'
    )
    order = ["A. chair, tv, lamp, sofa", "B. tv, chair, lamp, sofa"]
    assert plan(T.APPEARANCE_ORDER.format(a="chair", b="tv", c="lamp", d="sofa"), order) == (
        'answer(choose(["A. chair, tv, lamp, sofa", "B. tv, chair, lamp, sofa"], '
        'appearance_order(["chair", "tv", "lamp", "sofa"])))'
    )


@pytest.mark.parametrize(
    "template, options, qtype, scheme",
    [
        (T.DIRECTION_EASY, ["A. left", "B. right"], "object_rel_direction_easy", "left_right"),
        (T.DIRECTION_MEDIUM, ["A. left", "B. right", "C. back"], "object_rel_direction_medium", "left_right_back"),
        (T.DIRECTION_HARD, ["A. front-left", "B. front-right", "C. back-left", "D. back-right"],
         "object_rel_direction_hard", "quadrant"),
    ],
)
@pytest.mark.parametrize("give_type", [True, False])
def test_directions_with_and_without_type(template, options, qtype, scheme, give_type):
    text = template.format(a="sofa", b="tv", c="trash bin")
    got = plan(text, options, qtype if give_type else None)
    opts = ", ".join(f'"{o}"' for o in options)
    assert got == (
        'v = stand_at(the("sofa"), facing=the("tv"))\n'
        f'answer(choose([{opts}], direction(v, the("trash bin"), scheme="{scheme}")))'
    )


def test_distance_variants_and_units():
    base = "Measuring from the closest point of each object, what is the {} between the Sofa and the TV{}"
    want = 'answer(distance(the("sofa"), the("tv")))'
    assert plan(base.format("distance", " (in meters)?")) == want
    assert plan(base.format("direct distance", " (in meters)?")) == want
    assert plan(base.format("direct distance", "?")) == want
    assert plan(base.format("distance", " (in centimeters)?")) == 'answer(to_cm(distance(the("sofa"), the("tv"))))'
    assert plan("What is the distance between the couch and the\ntelevision?") == want


def test_size_variants():
    assert plan("What is the length of the longest dimension (length, width, or height) of the Ceiling Light, "
                "measured in centimeters?") == 'answer(to_cm(the("ceiling light").longest_side))'
    assert plan("What is the longest side of the bed in meters?") == 'answer(the("bed").longest_side)'


def test_room_size_variants():
    assert plan("What is the size of this room (in square meters)?") == "answer(room_area())"
    assert plan("what is the floor area of the room in square meters?") == "answer(room_area())"


def test_rel_distance_without_options_answers_category_and_farthest():
    got = plan("Which of these objects (chair, lamp or tv) is the farthest from the bed?")
    assert got == 'answer(farthest(the("bed"), among=["chair", "lamp", "tv"]).category)'
    got = plan("Which of the following objects (Chairs, lamp) is nearest to the bed?")
    assert got == 'answer(nearest(the("bed"), among=["chair", "lamp"]).category)'


def _route(a, b, c, steps):
    body = " ".join(f"{i + 1}. {s}" for i, s in enumerate(steps))
    return f"You are a robot beginning at the {a} facing the {b}. You want to navigate to the {c}. {ROUTE_NOTE}" \
           f"{body}. You have reached the final destination."


def test_route_generator_template():
    text = T.ROUTE.format(a="bed", b="door", c="sofa", steps=T.route_steps(["door", "trash bin"], "sofa"))
    opts = ["A. Turn Left, Turn Right", "B. Turn Back, Turn Left"]
    assert plan(text, opts, "route_planning") == (
        'v0 = stand_at(the("bed"), facing=the("door"))\n'
        'v1 = walk_to(v0, the("door"))\n'
        't1 = turn_to(v1, the("trash bin"))\n'
        'v2 = walk_to(v1, the("trash bin"))\n'
        't2 = turn_to(v2, the("sofa"))\n'
        'v3 = walk_to(v2, the("sofa"))\n'
        'answer(choose(["A. Turn Left, Turn Right", "B. Turn Back, Turn Left"], [t1, t2]))'
    )


def test_route_human_written_steps():
    steps = ["Go forward until the TV", "[please fill in]", "Go forward until the trash bin is on your right",
             "[please fill in]", "Walk forward until you reach the Ceiling Light"]
    got = plan(_route("Bed", "tv", "ceiling light", steps), ["A. Turn Left, Turn Right"])
    assert got.startswith('v0 = stand_at(the("bed"), facing=the("tv"))\n')
    assert 't1 = turn_to(v1, the("trash bin"))' in got and 't2 = turn_to(v2, the("ceiling light"))' in got


def test_route_steps_without_memory_categories_fall_back_to_text():
    steps = ["Go forward until the fridge", "[please fill in]", "Go forward until the stove is on your left"]
    got = plan(_route("sink", "fridge", "stove", steps), ["A. Turn Left"], summary={})
    assert 't1 = turn_to(v1, the("stove"))' in got


def test_route_with_prefilled_turns_picks_the_blanks():
    steps = ["Go forward until the tv", "Turn left", "Go forward until the lamp", "[please fill in]",
             "Go forward until the sofa"]
    got = plan(_route("bed", "tv", "sofa", steps), ["A. Turn Left", "B. Turn Right"], "route_planning")
    assert got == (
        'v0 = stand_at(the("bed"), facing=the("tv"))\n'
        'v1 = walk_to(v0, the("tv"))\n'
        'v2 = turn(v1, 90)\n'
        'v3 = walk_to(v2, the("lamp"))\n'
        't1 = turn_to(v3, the("sofa"))\n'
        'v4 = walk_to(v3, the("sofa"))\n'
        'answer(choose(["A. Turn Left", "B. Turn Right"], [t1]))'
    )
    # a first step that is a turn is filled in like any other
    got = plan(_route("bed", "tv", "sofa", ["[please fill in]", "Go forward until the sofa"]), ["A. Turn Left"])
    assert 't1 = turn_to(v0, the("sofa"))' in got


@pytest.mark.parametrize("text", ["", "What colour is the sofa?", "Tell me a joke."])
def test_cannot_plan(text):
    with pytest.raises(PlanningError, match="^cannot plan: "):
        plan(text)


def test_wrong_type_hint_still_infers_form():
    assert plan("How many chair(s) are in this room?", qtype="room_size_estimation") == (
        'answer(count(objects("chair")))'
    )


def test_quotes_in_categories_are_escaped():
    prog = plan('How many odd"thing(s) are in this room?', summary={})
    assert prog == 'answer(count(objects("odd\\"thing")))'


def test_resolve_and_find_category():
    cats = list(SUMMARY["categories"])
    assert resolve_category("The Trash-Bin", cats) == "trash bin"
    assert resolve_category("televisions", cats) == "tv"
    assert resolve_category("unicorn(s)", cats) == "unicorn"


def test_named_object_with_duplicates_in_memory_takes_the_largest():
    text = T.SIZE.format(category="chair")
    assert plan(text) == 'answer(to_cm(first(sort_by(objects("chair"), key="volume", descending=true)).longest_side))'
    strict = TemplatePlanner(resolve_duplicates=False)
    assert strict.plan(Question(text), SUMMARY).program == 'answer(to_cm(the("chair").longest_side))'


def test_rel_distance_drops_candidates_missing_from_memory():
    text = T.REL_DISTANCE.format(c1="chair", c2="unicorn", c3="tv", c4="sofa", category="bed")
    opts = ["A. chair", "B. unicorn", "C. tv", "D. sofa"]
    assert 'among=["chair", "tv", "sofa"]' in plan(text, opts)
    assert 'among=["chair", "unicorn", "tv", "sofa"]' in plan(text, opts, summary={})


def test_synonyms_come_from_the_checker_table():
    from spatialmem.vocab import SYNONYMS

    for alias, targets in SYNONYMS.items():
        assert resolve_category(alias, [targets[0]]) == targets[0], alias
    # the checker's preference order decides between several memory categories
    assert resolve_category("screen", ["monitor", "tv"]) == "tv"
    assert resolve_category("display", ["monitor", "tv"]) == "monitor"


def test_a_categorys_own_name_beats_another_categorys_synonym():
    cats = ["chair", "stool", "desk", "table"]  # "stool" is also a synonym of chair, "desk" of table
    assert resolve_category("stool", cats) == "stool"
    assert resolve_category("desk", cats) == "desk"
    assert resolve_category("stool", ["chair", "table"]) == "chair"


def test_everyday_names_are_resolved_and_recorded():
    summary = {"categories": {"coat hanger": 1, "refrigerator": 1, "dining table": 1, "wardrobe": 1, "cupboard": 1}}
    p = PLANNER.plan(Question(T.SIZE.format(category="coat rack")), summary)
    assert p.program == 'answer(to_cm(the("coat hanger").longest_side))'
    assert p.notes["resolved"] == ['"coat rack" -> "coat hanger" (synonym)']
    p = PLANNER.plan(Question(T.ABS_DISTANCE.format(a="fridge", b="dinning table")), summary)
    assert p.program == 'answer(distance(the("refrigerator"), the("dining table")))'
    assert '"dinning table" -> "dining table" (typo, edit distance 1)' in p.notes["resolved"]
    with pytest.raises(PlanningError, match='"cabinet" is ambiguous: "cupboard", "wardrobe"'):
        PLANNER.plan(Question(T.SIZE.format(category="cabinet")), summary)
    # a name the memory does not have passes through: the checker then hints
    got = PLANNER.plan(Question(T.SIZE.format(category="tablet")), summary)
    assert got.program == 'answer(to_cm(the("tablet").longest_side))' and "resolved" not in got.notes
