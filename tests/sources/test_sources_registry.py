"""Sources are chosen through the backend registry (kind ``source``): built-in layouts and third-party ones."""

from __future__ import annotations

import textwrap

import pytest

from spatialmem import registry
from spatialmem.errors import InputError
from spatialmem.sources import LAYOUTS, SOURCE_KIND, layout_names, open_source
from spatialmem.sources.video import VideoSource


def test_every_layout_is_a_registered_source_and_every_builtin_source_is_detected():
    detected = [lay.name for lay in LAYOUTS]
    assert len(detected) == len(set(detected)) >= 10
    assert set(detected) == set(registry.names(SOURCE_KIND))
    for lay in LAYOUTS:
        spec = registry.spec(SOURCE_KIND, lay.name)
        assert spec.doc and lay.doc == spec.doc
    assert registry.resolve(SOURCE_KIND, "video") is VideoSource
    assert registry.spec(SOURCE_KIND, "video").extra == "video"  # PyAV is optional


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """A source package outside spatialmem, registered under kind ``source``; unregistered afterwards."""
    pkg = tmp_path / "pkgs"
    pkg.mkdir()
    (pkg / "zz_third_party_source.py").write_text(textwrap.dedent('''
        from pathlib import Path

        class ListSource:
            def __init__(self, path, max_frames=None):
                self.path = Path(path)
                self.scene_name = "third-party"
                self.max_frames = max_frames

            def __iter__(self):
                return iter(())

            def __len__(self):
                return 0
    '''))
    monkeypatch.syspath_prepend(str(pkg))
    registry.register(SOURCE_KIND, "zz-list", "zz_third_party_source:ListSource", doc="a test source")
    yield "zz-list"
    registry.unregister(SOURCE_KIND, "zz-list")
    assert "zz-list" not in registry.names(SOURCE_KIND)


def test_a_third_party_source_opens_by_layout_name(third_party, tmp_path):
    src = open_source(tmp_path, layout=third_party, max_frames=3)
    assert type(src).__name__ == "ListSource" and src.max_frames == 3 and src.path == tmp_path
    assert third_party in layout_names() and layout_names()[: len(LAYOUTS)] == [lay.name for lay in LAYOUTS]
    with pytest.raises(InputError, match="--fps cannot be used with the zz-list layout"):
        open_source(tmp_path, layout=third_party, fps=5.0)


def test_an_unknown_layout_lists_the_registered_ones(third_party, tmp_path):
    with pytest.raises(InputError, match=r"unknown layout 'nope'; choose one of synthetic, .*images, zz-list"):
        open_source(tmp_path, layout="nope")
