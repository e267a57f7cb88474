"""The ``sfm`` backend end to end on a short textured synthetic clip (RGB only), and its clear errors."""

import json

import numpy as np
import pytest
from PIL import Image

from spatialmem.memory.builder import BuilderConfig, build_memory
from spatialmem.perception.base import GeometryConfig
from spatialmem.perception.sfm.poses import umeyama
from spatialmem.sources.synthetic import SyntheticSceneSource
from spatialmem.synth.writer import SynthConfig, write_scene


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_scene(tmp_path_factory.mktemp("sfm") / "scene", 3, SynthConfig(num_frames=40, width=320, height=240))


@pytest.mark.slow
def test_sfm_recovers_the_camera_track_and_metric_scale(clip):
    src = SyntheticSceneSource(clip, rgb_only=True)
    assert next(iter(src)).world_from_camera is None  # the backend sees RGB (and masks) only
    mem = build_memory(src, BuilderConfig(geometry=GeometryConfig("sfm")))
    gt = {r["index"]: np.array(r["world_from_camera"]) for r in map(json.loads, open(clip / "frames.jsonl"))}
    assert len(mem.cameras) == len(gt)
    ours = np.array([c.world_from_camera[:3, 3] for c in mem.cameras])
    truth = np.array([gt[c.frame_index][:3, 3] for c in mem.cameras])
    sim = umeyama(ours, truth)
    ate = float(np.sqrt(np.mean(np.sum((sim.points(ours) - truth) ** 2, axis=1))))
    assert ate <= 0.05
    assert abs(sim.scale - 1.0) <= 0.05  # metric scale from the camera-height and object-size priors
    info = mem.metadata["sfm"]
    assert info["registered_fraction"] >= 0.95 and info["n_segments"] == 1
    assert mem.metadata["metric_scale"]["confidence"] > 0
    assert info["gravity"]["method"] in ("plane", "cameras")
    # z is up: the cameras are hand-held above the floor, the floor is at z = 0
    assert 1.2 < float(np.median(ours[:, 2])) < 1.8
    assert mem.room is not None and abs(mem.room.floor_z) < 0.1
    assert len(mem.instances) >= 3  # objects lifted from sparse points inside the given masks


def test_sfm_names_the_frames_when_there_is_no_motion(tmp_path):
    from spatialmem.errors import InputError
    from spatialmem.sources import open_source

    rng = np.random.default_rng(0)
    img = np.repeat(np.repeat(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), 8, axis=0), 8, axis=1)
    for i in range(8):
        Image.fromarray(img).save(tmp_path / f"{i:03d}.png")
    with pytest.raises(InputError, match=r"frames 0-7.*no camera motion"):
        build_memory(open_source(tmp_path), BuilderConfig(geometry=GeometryConfig("sfm")))
