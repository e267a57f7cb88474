"""Fixtures for the benchmark harness: a small question file (the memory is in tests/conftest.py)."""

from __future__ import annotations

import json

import pytest

QUESTIONS = [
    {"id": "a1", "scene_name": "scene_a", "question_type": "object_counting",
     "question": "How many chair(s) are in this room?", "options": [], "ground_truth": "2"},
    {"id": "a2", "scene_name": "scene_a", "question_type": "room_size_estimation",
     "question": "What is the size of this room (in square meters)?", "options": [], "ground_truth": "20"},
    {"id": "a3", "scene_name": "scene_a", "question_type": "object_rel_direction_easy",
     "question": "If I am standing by the sofa and facing the tv, is the lamp to the left or the right of the tv?",
     "options": ["A. left", "B. right"], "ground_truth": "B"},
    {"id": "a4", "scene_name": "scene_a", "question_type": "object_counting",
     "question": "What colour is the sofa?", "options": [], "ground_truth": "3"},
    {"id": "b1", "scene_name": "scene_b", "question_type": "object_counting",
     "question": "How many chair(s) are in this room?", "options": [], "ground_truth": "2"},
    {"id": "c1", "scene_name": "scene_a", "question_type": "object_counting", "question": "",
     "options": [], "ground_truth": "2"},
]


@pytest.fixture
def loader(make_memory):
    """A memory loader for the runner that builds the memory instead of reading a store."""
    return lambda path: make_memory(path.name)


@pytest.fixture
def bench_dir(tmp_path):
    qfile = tmp_path / "questions.jsonl"
    qfile.write_text("".join(json.dumps(r) + "\n" for r in QUESTIONS))
    mem = tmp_path / "memories"
    (mem / "scene_a").mkdir(parents=True)
    return tmp_path, qfile, mem
