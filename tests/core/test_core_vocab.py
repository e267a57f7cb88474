"""The vocabulary's name resolution: what it resolves, how it says it did, and what it must not do."""

from __future__ import annotations

import pytest

from spatialmem.vocab import RESOLUTION_KINDS, edit_distance, resolve

PAIRS = [
    ("coat rack", "coat hanger"), ("trash can", "trash bin"), ("fridge", "refrigerator"), ("couch", "sofa"),
    ("television", "tv"), ("nightstand", "night stand"),
]


@pytest.mark.parametrize("a, b", PAIRS + [(b, a) for a, b in PAIRS])
def test_everyday_pairs_resolve_both_ways(a, b):
    r = resolve(a, [b, "lamp"])
    assert (r.name, r.resolved) == (b, True)
    assert r.how in ("synonym", "spelling variant")


@pytest.mark.parametrize("raw, cats, name, how", [
    ("Sofa", ["sofa"], "sofa", "exact"),
    ("the chair(s)", ["chair"], "chair", "exact"),
    ("night-stand", ["nightstand"], "nightstand", "spelling variant"),
    ("chairs", ["chair"], "chair", "plural"),
    ("shelves", ["shelf"], "shelf", "plural"),
    ("couch", ["sofa"], "sofa", "synonym"),
    ("dinning table", ["dining table", "table"], "dining table", "typo"),
    ("chiar", ["chair", "table"], "chair", "typo"),
    ("sofaa", ["sofa"], "sofa", "typo"),
    ("wooden chair", ["chair"], "chair", "head noun"),
    ("dinning table", ["table"], "table", "head noun"),
])
def test_resolution_says_what_it_did(raw, cats, name, how):
    r = resolve(raw, cats)
    assert (r.name, r.how) == (name, how)
    assert how in RESOLUTION_KINDS
    assert name in r.note()


def test_typo_reports_its_edit_distance():
    r = resolve("dinning table", ["dining table"])
    assert r.edit_distance == 1 and r.note() == '"dinning table" -> "dining table" (typo, edit distance 1)'
    assert edit_distance("chiar", "chair") == 1 and edit_distance("sofa", "bed") == 4


def test_table_never_silently_becomes_tablet():
    r = resolve("table", ["tablet", "chair"])
    assert (r.how, r.resolved, r.name) == ("none", False, "table")
    assert resolve("tablet", ["table"]).how == "none"


def test_chair_stays_chair_when_armchair_exists():
    assert resolve("chair", ["armchair", "chair"]).name == "chair"
    assert resolve("chairs", ["armchair", "chair"]).name == "chair"
    assert resolve("armchair", ["armchair", "chair"]).name == "armchair"


def test_ambiguous_names_list_the_candidates():
    r = resolve("cabinet", ["wardrobe", "cupboard"])  # both are names of a cabinet
    assert r.how == "ambiguous" and not r.resolved and set(r.candidates) == {"wardrobe", "cupboard"}
    r = resolve("lamb", ["lamp", "lame"])  # two categories one letter away
    assert r.how == "ambiguous"


def test_short_names_are_not_typos():
    assert resolve("bed", ["bad", "bet"]).how == "none"  # 3 letters: no edit is a typo
    assert resolve("zebra", ["chair"]).how == "none"
