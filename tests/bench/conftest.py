"""Fixtures for the benchmark harness: a hand-built memory and a small question file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.scene import ObjectInstance, Room, SceneMemory

OBJECTS = [
    ("sofa", (1.0, 1.0, 0.4), (2.0, 0.9, 0.8), 0.5),
    ("tv", (1.0, 4.0, 1.0), (1.2, 0.1, 0.7), 3.0),
    ("lamp", (3.5, 2.0, 0.8), (0.3, 0.3, 1.6), 5.0),
    ("chair", (2.5, 3.0, 0.45), (0.5, 0.5, 0.9), 7.0),
    ("chair", (4.0, 3.5, 0.45), (0.5, 0.5, 0.9), 8.0),
]


def _make_memory(scene_id: str) -> SceneMemory:
    instances = tuple(
        ObjectInstance(id=i + 1, category=cat, box=OrientedBox.from_yaw(c, s, 0.0), first_seen_s=t, last_seen_s=t)
        for i, (cat, c, s, t) in enumerate(OBJECTS)
    )
    poly = np.array([[0, 0], [5, 0], [5, 5], [0, 5]], dtype=np.float64)
    return SceneMemory(scene_id=scene_id, instances=instances, room=Room(0.0, poly, 25.0, 2.6))


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
def make_memory():
    """A factory: scene id -> the hand-built SceneMemory."""
    return _make_memory


@pytest.fixture
def loader():
    """A memory loader for the runner that builds the memory instead of reading a store."""
    return lambda path: _make_memory(path.name)


@pytest.fixture
def bench_dir(tmp_path):
    qfile = tmp_path / "questions.jsonl"
    qfile.write_text("".join(json.dumps(r) + "\n" for r in QUESTIONS))
    mem = tmp_path / "memories"
    (mem / "scene_a").mkdir(parents=True)
    return tmp_path, qfile, mem
