"""ScanNet exports with the official label files: label map TSV, aggregation, segs, label-filt, --labels."""

from __future__ import annotations

import json
from pathlib import Path

import layout_writers as W  # registered by conftest.py
import mem_scene_kit as kit  # registered by conftest.py
import numpy as np
import pytest
from PIL import Image

from spatialmem.errors import FormatError, InputError
from spatialmem.sources import open_source

TSV = ("id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class\n"
       "3\tkitchen cabinets\tkitchen cabinet\t10\t3\t6\tcabinet\tcabinet\n"
       "7\tdining table\tdining table\t5\t7\t5\ttable\ttable\n"
       "2\tchair\tchair\t9\t5\t4\tchair\tchair\n")


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Path:
    w = kit.World()
    w.add(1, "table", [2.5, 2.0, 0.375], [1.4, 0.8, 0.75])
    w.add(2, "cabinet", [4.6, 3.5, 0.6], [0.6, 0.8, 1.2])
    poses = kit.orbit_poses([2.5, 2.0], 1.0, 3, height=1.5, target_z=0.4)
    root = tmp_path_factory.mktemp("scannet")
    scene = kit.write_scene_folder(root, w, poses, kit.small_K(48, 36, hfov=80))
    out = W.write_scannet(scene, root / "scene0000_00")
    (out / "instance_labels.json").unlink()
    sem = {1: 7, 2: 3}  # instance id -> ScanNet label id (the TSV's id column)
    (out / "label-filt").mkdir()
    for f in sorted((out / "instance-filt").iterdir()):
        ids = np.asarray(Image.open(f))
        labels = np.vectorize(lambda v: sem.get(int(v), 0))(ids).astype(np.uint16)
        Image.fromarray(labels).save(out / "label-filt" / f.name)
    (root / "scannetv2-labels.combined.tsv").write_text(TSV)  # one folder above the scan, as in ScanNet
    return out


def _labels(src) -> dict:
    found = {}
    for f in src:
        found.update(f.instance_labels)
    return found


def test_label_filt_majority_through_the_label_map(scan):
    assert _labels(open_source(scan)) == {1: "table", 2: "cabinet"}
    assert _labels(open_source(scan, labels="scannet200")) == {1: "dining table", 2: "kitchen cabinet"}


def test_aggregation_and_segs(scan, tmp_path):
    agg = {"segGroups": [{"id": 0, "objectId": 0, "segments": [11, 12], "label": "dining table"},
                         {"id": 1, "objectId": 1, "segments": [13], "label": "kitchen cabinets"},
                         {"id": 2, "objectId": 2, "segments": [99], "label": "chair"}]}
    (scan / "scene0000_00.aggregation.json").write_text(json.dumps(agg))
    (scan / "scene0000_00_vh_clean_2.0.010000.segs.json").write_text(json.dumps({"segIndices": [11, 11, 12, 13]}))
    try:
        src = open_source(scan)
        assert src.labels == {1: "table", 2: "cabinet"}  # object 2's segment 99 is not in the mesh: dropped
        assert open_source(scan, labels="raw").labels == {1: "dining table", 2: "kitchen cabinets"}
        (scan / "scene0000_00.aggregation.json").write_text('{"segGroups": [{"label": "x"}]}')
        with pytest.raises(FormatError, match="aggregation.json: segGroups\\[0\\]"):
            open_source(scan)
        with pytest.raises(InputError, match="--labels"):
            open_source(scan, labels="nyu41")
    finally:
        (scan / "scene0000_00.aggregation.json").unlink()
        (scan / "scene0000_00_vh_clean_2.0.010000.segs.json").unlink()


def test_a_label_map_without_its_columns_is_named(scan):
    tsv = scan.parent / "scannetv2-labels.combined.tsv"
    good = tsv.read_text()
    tsv.write_text("id\tname\n1\tx\n")
    try:
        with pytest.raises(FormatError, match="scannetv2-labels.combined.tsv"):
            open_source(scan)
    finally:
        tsv.write_text(good)
