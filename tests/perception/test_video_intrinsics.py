"""Intrinsics from a video's metadata (35 mm equivalent focal length), between --fov and self-calibration."""

import numpy as np
import pytest

from spatialmem.perception.auto import with_intrinsics_mode
from spatialmem.perception.base import GeometryConfig
from spatialmem.sources.video import FOCAL_35MM_TAGS, VideoSource, intrinsics_from_metadata


def _clip(path, tags: dict[str, str]) -> None:
    av = pytest.importorskip("av")
    with av.open(str(path), "w", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata.update(tags)
        st = out.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for k in range(3):
            for pkt in st.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), 60 * k, np.uint8), format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)


def test_focal_length_from_35mm_equivalent():
    K = intrinsics_from_metadata({FOCAL_35MM_TAGS[0]: "26"}, 1920, 1080)
    assert K is not None
    assert K.fx == pytest.approx(26 * np.hypot(1920, 1080) / np.hypot(36, 24))  # same diagonal field of view
    assert (K.cx, K.cy) == (959.5, 539.5)
    assert intrinsics_from_metadata({FOCAL_35MM_TAGS[0]: "n/a"}, 640, 480) is None
    assert intrinsics_from_metadata({FOCAL_35MM_TAGS[0]: "2000"}, 640, 480) is None  # implausible
    assert intrinsics_from_metadata({}, 640, 480) is None


def test_video_source_takes_metadata_after_the_flags(tmp_path):
    p = tmp_path / "clip.mp4"
    _clip(p, {FOCAL_35MM_TAGS[0]: "26"})
    src = VideoSource(p)
    assert src.intrinsics_source == "metadata" and src.intrinsics_known
    assert src.intrinsics.fx == pytest.approx(26 * 80 / np.hypot(36, 24))
    assert with_intrinsics_mode(GeometryConfig("sfm"), src).options["known_intrinsics"] is True
    fov = VideoSource(p, hfov_deg=90)
    assert fov.intrinsics_source == "--fov" and fov.intrinsics.fx == pytest.approx(32.0)
    bare = tmp_path / "bare.mp4"
    _clip(bare, {})
    guess = VideoSource(bare)
    assert guess.intrinsics_source == "guess" and not guess.intrinsics_known
    assert with_intrinsics_mode(GeometryConfig("sfm"), guess).options["known_intrinsics"] is False
