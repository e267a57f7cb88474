"""The backend registry and the error tree."""

import pytest

from spatialmem import registry
from spatialmem.errors import BackendError, MissingDependencyError, require_package


def test_unknown_backend_lists_choices():
    with pytest.raises(BackendError, match="choose one of: .*given"):
        registry.spec("geometry", "nope")


@pytest.fixture
def testkind():
    """The kind the tests register under; every backend of it is removed afterwards."""
    yield "testkind"
    for name in registry.names("testkind"):
        registry.unregister("testkind", name)
    assert registry.names("testkind") == []


def test_register_and_build_roundtrip(testkind):
    registry.register("testkind", "dict", "builtins:dict", doc="plain dict")
    assert "dict" in registry.names("testkind")
    assert registry.build("testkind", "dict", a=1) == {"a": 1}
    with pytest.raises(BackendError, match="package.module:Attr"):
        registry.register("testkind", "bad", "no_colon")


def test_missing_module_names_the_extra(testkind):
    registry.register("testkind", "ghost", "spatialmem_no_such_module:X", extra="render")
    with pytest.raises(MissingDependencyError, match=r"pip install 'spatialmem\[render\]'"):
        registry.resolve("testkind", "ghost")
    with pytest.raises(MissingDependencyError, match="spatialmem\\[llm\\]"):
        require_package("spatialmem_no_such_module", "llm", "testing")
