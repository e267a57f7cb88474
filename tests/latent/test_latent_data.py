"""Episodes from the synthetic world: tokens, questions checked against brute force, save/load."""

import numpy as np
import pytest

from spatialmem.errors import InputError
from spatialmem.latent.data import MAX_COUNT, NEEDS, episode_from_memory, episode_from_scene, load_episode, save_episode


@pytest.fixture(scope="module")
def episode():
    return episode_from_scene(4, num_frames=48, window=8, questions_per_kind=4)


def _first_seen(ep):
    first = {}
    for f in range(ep.num_frames):
        for i in ep.instance_ids[f][ep.mask[f]]:
            first.setdefault(int(i), f)
    return first


def test_tokens_are_consistent(episode):
    ep = episode
    assert ep.category_ids.shape == ep.instance_ids.shape == ep.boxes.shape[:2]
    assert ep.mask.any(axis=1).mean() > 0.5  # most frames see something
    assert np.all(ep.instance_ids[~ep.mask] == 0) and np.all(ep.instance_ids[ep.mask] > 0)
    # one object always has the same box and category
    for i in np.unique(ep.instance_ids[ep.mask]):
        sel = ep.instance_ids == i
        assert len(np.unique(ep.category_ids[sel])) == 1
        assert np.allclose(ep.boxes[sel], ep.boxes[sel][0])


def test_questions_match_brute_force(episode):
    ep = episode
    first = _first_seen(ep)
    cat_of = {int(i): int(c) for i, c in zip(ep.instance_ids[ep.mask], ep.category_ids[ep.mask])}
    kinds = {q.kind for q in ep.questions}
    assert {"count", "first", "recent", "now"} <= kinds
    for q in ep.questions:
        assert q.needs == NEEDS[q.kind]
        if q.kind == "count":
            ids = [i for i, c in cat_of.items() if c == q.categories[0]]
            assert q.answer == min(len(ids), MAX_COUNT)
            last = {i: max(f for f in range(ep.num_frames) if i in ep.instance_ids[f]) for i in ids}
            assert min(last.values()) < ep.num_frames - ep.window  # one of them was seen before the window
        elif q.kind == "first":
            a, b = ([i for i, c in cat_of.items() if c == k][0] for k in q.categories)
            assert q.answer == int(first[b] < first[a])
            assert abs(first[a] - first[b]) >= ep.window
        elif q.kind == "recent":
            recent = {int(i) for i in ep.instance_ids[-ep.window:].ravel() if i > 0}
            assert q.answer == sum(1 for i in recent if cat_of[i] == q.categories[0])
        elif q.kind == "now":
            assert q.answer == int(q.categories[0] in set(ep.category_ids[-1][ep.mask[-1]].tolist()))


def test_save_load_round_trip(episode, tmp_path):
    save_episode(episode, tmp_path / "episode_00004")
    back = load_episode(tmp_path / "episode_00004.json")
    assert np.array_equal(back.category_ids, episode.category_ids)
    assert np.array_equal(back.boxes, episode.boxes)
    assert back.questions == episode.questions


def test_episode_from_explicit_memory():
    from spatialmem.geometry.boxes import OrientedBox
    from spatialmem.geometry.se3 import look_at
    from spatialmem.memory.scene import CameraRecord, ObjectInstance, SceneMemory
    from spatialmem.types import Intrinsics

    K = Intrinsics.from_fov(64, 48, 60.0)
    cams = [CameraRecord(f, f * 0.5, look_at([0, 0, 1.5], [np.cos(f / 5), np.sin(f / 5), 1.0]), K)
            for f in range(24)]
    insts = (ObjectInstance(1, "chair", OrientedBox.from_yaw([2, 0, 0.5], [0.5, 0.5, 1], 0.0)),
             ObjectInstance(2, "chair", OrientedBox.from_yaw([0, 2, 0.5], [0.5, 0.5, 1], 0.0)),
             ObjectInstance(3, "unicorn", OrientedBox.from_yaw([-2, 0, 0.5], [0.5, 0.5, 1], 0.0)))
    ep = episode_from_memory(SceneMemory("m", instances=insts, cameras=tuple(cams)), window=4)
    seen = set(ep.instance_ids[ep.mask].tolist())
    assert seen == {1, 2}  # the unknown category is skipped
    assert ep.poses.shape == (24, 4, 4) and ep.fps == pytest.approx(2.0)
    with pytest.raises(InputError):
        episode_from_memory(SceneMemory("m", instances=insts, cameras=tuple(cams[:5])), window=4)


def test_patch_points_world_from_depth_and_pose():
    from spatialmem.geometry.se3 import look_at
    from spatialmem.latent.data import patch_points_world
    from spatialmem.types import Intrinsics

    K = Intrinsics.from_fov(40, 20, 90.0)
    pose = look_at([1.0, 2.0, 1.5], [1.0, 5.0, 1.5])  # looking along +y at a wall 3 m away
    depth = np.full((20, 40), 3.0, np.float32)
    depth[:10, :20] = 0.0  # top-left patch without measurement
    pts, valid = patch_points_world(depth, K, pose, (2, 2))
    assert pts.shape == (4, 3) and valid.tolist() == [False, True, True, True]
    assert np.allclose(pts[valid][:, 1], 5.0, atol=1e-4)  # every measured patch lies on the wall y = 5
    # the right patches are to the camera's right (+x when looking along +y with z up), lower ones lower
    assert pts[1, 0] > 1.0 and pts[3, 2] < 1.5
