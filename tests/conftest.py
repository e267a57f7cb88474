"""Shared fixtures: the hand-built memories every test area uses (one place, hand-checkable geometry).

``living`` (the query-language tests): a 6 x 5 m room (area 30 m2, ceiling 2.8 m) with axis-aligned boxes:

=====  ============  ====================  =================  ==========
id     category      centre (m)            size (m)           first seen
=====  ============  ====================  =================  ==========
1      sofa          (1.0, 2.5, 0.4)       (0.9, 2.0, 0.8)    4.0
2      tv            (5.5, 2.5, 1.0)       (0.2, 1.2, 0.7)    2.0
3      bed           (3.0, 4.0, 0.3)       (2.0, 1.6, 0.6)    8.0
4      door          (3.0, 0.05, 1.0)      (0.9, 0.1, 2.0)    0.5
5      table         (3.0, 2.0, 0.375)     (1.2, 0.8, 0.75)   6.0
6,7,8  chair         (2,2) (4,2) (3,1.2)   (0.5, 0.5, 0.9)    6.5 7.0 9.0
9      lamp          (0.5, 4.5, 0.8)       (0.3, 0.3, 1.6)    3.0
10     trash bin     (5.5, 0.5, 0.2)       (0.3, 0.3, 0.4)    10.0
11     refrigerator  (5.6, 4.5, 0.9)       (0.7, 0.7, 1.8)    11.0
=====  ============  ====================  =================  ==========

Cameras at t = 0..4 s at (1 + t, 1, 1.5) looking along +y; keyframes 10 (sees sofa) and 20 (tv's best view).
``points``: the same room, objects carrying surface points (grid samples of their box faces).
``empty``: no objects, no room, no cameras. ``boxes_only``: two boxes, no room, no times.

``small room`` (the planner and benchmark tests, :func:`make_small_room`): a 5 x 5 m room (25 m2,
ceiling 2.6 m) with a sofa, a tv, a lamp, two chairs and (unless ``trash_bin=False``) a trash bin.
"""

from __future__ import annotations

import numpy as np
import pytest

from spatialmem.geometry.boxes import OrientedBox, sample_box_surface
from spatialmem.memory.scene import CameraRecord, Keyframe, ObjectInstance, Room, SceneMemory
from spatialmem.types import Intrinsics

LIVING = [
    (1, "sofa", (1.0, 2.5, 0.4), (0.9, 2.0, 0.8), 4.0),
    (2, "tv", (5.5, 2.5, 1.0), (0.2, 1.2, 0.7), 2.0),
    (3, "bed", (3.0, 4.0, 0.3), (2.0, 1.6, 0.6), 8.0),
    (4, "door", (3.0, 0.05, 1.0), (0.9, 0.1, 2.0), 0.5),
    (5, "table", (3.0, 2.0, 0.375), (1.2, 0.8, 0.75), 6.0),
    (6, "chair", (2.0, 2.0, 0.45), (0.5, 0.5, 0.9), 6.5),
    (7, "chair", (4.0, 2.0, 0.45), (0.5, 0.5, 0.9), 7.0),
    (8, "chair", (3.0, 1.2, 0.45), (0.5, 0.5, 0.9), 9.0),
    (9, "lamp", (0.5, 4.5, 0.8), (0.3, 0.3, 1.6), 3.0),
    (10, "trash bin", (5.5, 0.5, 0.2), (0.3, 0.3, 0.4), 10.0),
    (11, "refrigerator", (5.6, 4.5, 0.9), (0.7, 0.7, 1.8), 11.0),
]
KEYFRAMES = {"sofa": (10,), "tv": (20,)}


def build_living(with_points: bool = False) -> SceneMemory:
    insts = []
    for ident, cat, c, s, t in LIVING:
        box = OrientedBox(np.array(c), np.array(s), np.eye(3))
        pts = sample_box_surface(box, 0.05).astype(np.float32) if with_points else np.zeros((0, 3), np.float32)
        insts.append(ObjectInstance(ident, cat, box, pts, first_seen_s=t, last_seen_s=t + 5.0, n_observations=3,
                                    keyframe_indices=KEYFRAMES.get(cat, ())))
    K = Intrinsics.from_fov(64, 48, 90.0)
    R = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # camera x=+x, y(down)=-z, z(forward)=+y
    cams = []
    for t in range(5):
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = R, (1.0 + t, 1.0, 1.5)
        cams.append(CameraRecord(t * 10, float(t), T, K))
    rgb = np.zeros((48, 64, 3), np.uint8)
    kfs = (Keyframe(10, 1.0, cams[1].world_from_camera, K, rgb + 10, (1, 5)),
           Keyframe(20, 2.0, cams[2].world_from_camera, K, rgb + 20, (2,)))
    room = Room(0.0, np.array([[0, 0], [6, 0], [6, 5], [0, 5]], float), 30.0, 2.8)
    pts = np.concatenate([i.points_world for i in insts]) if with_points else np.zeros((0, 3), np.float32)
    cols = np.full((len(pts), 3), 200, np.uint8)
    return SceneMemory("living" + ("_points" if with_points else ""), tuple(insts), tuple(cams), kfs, room,
                       pts, cols, {"source": "tests"})


def build_empty() -> SceneMemory:
    return SceneMemory("empty")


def build_boxes_only() -> SceneMemory:
    a = ObjectInstance(1, "box", OrientedBox.axis_aligned((0, 0, 0), (1, 1, 1)))
    b = ObjectInstance(2, "ball", OrientedBox.from_yaw((3, 0, 0.5), (1, 1, 1), np.pi / 4))
    return SceneMemory("boxes", (a, b))


BUILDERS = {
    "living": lambda: build_living(False),
    "points": lambda: build_living(True),
    "empty": build_empty,
    "boxes_only": build_boxes_only,
}


@pytest.fixture(scope="session")
def memories() -> dict[str, SceneMemory]:
    return {name: build() for name, build in BUILDERS.items()}


@pytest.fixture(scope="session")
def living(memories) -> SceneMemory:
    return memories["living"]


# category, centre (x, y, z), size (sx, sy, sz), first_seen_s
SMALL_ROOM = [
    ("sofa", (1.0, 1.0, 0.4), (2.0, 0.9, 0.8), 0.5),
    ("tv", (1.0, 4.0, 1.0), (1.2, 0.1, 0.7), 3.0),
    ("lamp", (3.5, 2.0, 0.8), (0.3, 0.3, 1.6), 5.0),
    ("chair", (2.5, 3.0, 0.45), (0.5, 0.5, 0.9), 7.0),
    ("chair", (4.0, 3.5, 0.45), (0.5, 0.5, 0.9), 8.0),
    ("trash bin", (0.3, 2.5, 0.2), (0.3, 0.3, 0.4), 9.5),
]


def make_small_room(scene_id: str = "scene_test", trash_bin: bool = True, seen_for_s: float = 1.0) -> SceneMemory:
    """The small room; each object is last seen ``seen_for_s`` seconds after it was first seen."""
    objects = SMALL_ROOM if trash_bin else [o for o in SMALL_ROOM if o[0] != "trash bin"]
    instances = tuple(
        ObjectInstance(id=i + 1, category=cat, box=OrientedBox.from_yaw(c, s, 0.0), first_seen_s=t,
                       last_seen_s=t + seen_for_s)
        for i, (cat, c, s, t) in enumerate(objects)
    )
    poly = np.array([[0, 0], [5, 0], [5, 5], [0, 5]], dtype=np.float64)
    return SceneMemory(scene_id=scene_id, instances=instances, room=Room(0.0, poly, 25.0, 2.6))


@pytest.fixture
def memory() -> SceneMemory:
    """The small room (planner tests)."""
    return make_small_room()


@pytest.fixture
def make_memory():
    """A factory: scene id -> the small room without its trash bin (benchmark tests)."""
    return lambda scene_id: make_small_room(scene_id, trash_bin=False, seen_for_s=0.0)
