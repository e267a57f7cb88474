"""Fragment merging: pieces of one object seen at different times become one instance, neighbours do not."""

from __future__ import annotations

from spatialmem.geometry.boxes import OrientedBox, sample_box_surface
from spatialmem.memory.associate import AssociationConfig, are_fragments
from spatialmem.memory.instance_state import InstanceState


def piece(iid: int, lo, hi, frames) -> InstanceState:
    s = InstanceState(iid, "chair", 0.02, 100000, 0.05)
    s.add_points(sample_box_surface(OrientedBox.axis_aligned(lo, hi), 0.02))
    s.recent_frames.extend(frames)
    return s


def test_chair_back_and_seat_seen_apart_are_one_chair():
    back = piece(1, [0.0, 0.0, 0.0], [0.52, 0.06, 0.87], [1, 2, 3])  # seen first, alone
    seat = piece(2, [0.0, 0.06, 0.32], [0.52, 0.51, 0.42], [40, 41])  # seen later, alone
    assert are_fragments(back, seat, AssociationConfig())
    assert not are_fragments(back, seat, AssociationConfig(fragment_nested=1.0))  # the rule this relies on


def test_two_chairs_corner_to_corner_are_not_fragments():
    a = piece(1, [0.0, 0.0, 0.0], [0.5, 0.5, 0.9], [1, 2])
    b = piece(2, [0.55, 0.55, 0.0], [1.05, 1.05, 0.9], [30, 31])  # 7 cm apart diagonally, never seen together
    assert not are_fragments(a, b, AssociationConfig())


def test_pieces_seen_in_one_frame_are_two_objects():
    back = piece(1, [0.0, 0.0, 0.0], [0.52, 0.06, 0.87], [1, 2, 3])
    seat = piece(2, [0.0, 0.06, 0.32], [0.52, 0.51, 0.42], [3, 4])
    assert not are_fragments(back, seat, AssociationConfig())
