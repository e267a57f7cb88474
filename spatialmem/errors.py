"""The one exception tree of spatialmem.

Library code raises these; only :mod:`spatialmem.cli` turns them into messages and exit codes.
Every message says what was wrong *and* how to fix it (the file, field or frame, and the remedy).
"""

from __future__ import annotations


class SpatialMemError(Exception):
    """Base class for every error spatialmem raises on purpose."""

    exit_code: int = 1


class InputError(SpatialMemError):
    """Bad user input: a file, folder, field or option value that cannot be used as given."""

    exit_code = 2


class FormatError(InputError):
    """A file exists but its content does not follow the documented format (docs/formats.md)."""


class MissingDependencyError(SpatialMemError):
    """An optional dependency is not installed; the message names the pip extra to install."""

    exit_code = 3

    def __init__(self, package: str, extra: str, purpose: str = "") -> None:
        what = f" (needed for {purpose})" if purpose else ""
        super().__init__(
            f"the optional package '{package}' is not installed{what}; "
            f"install it with: pip install 'spatialmem[{extra}]'"
        )
        self.package = package
        self.extra = extra


class ModelWeightsError(SpatialMemError):
    """A model's weights are neither in a given folder nor in the Hugging Face cache, and cannot be fetched."""

    exit_code = 3


class BackendError(SpatialMemError):
    """A registered backend could not be found or constructed."""

    exit_code = 2


class StoreError(SpatialMemError):
    """A memory directory on disk is missing, corrupted or from an incompatible schema version."""

    exit_code = 4


class RenderError(SpatialMemError):
    """No renderer could produce the requested images."""

    exit_code = 5


class NothingAnsweredError(SpatialMemError):
    """A benchmark run in which every selected question failed (so its score means nothing)."""

    exit_code = 10


class ProgramError(SpatialMemError):
    """A query-language program was rejected; carries structured diagnostics (see spatialmem.dsl)."""

    exit_code = 6

    def __init__(self, message: str, diagnostics: tuple = ()) -> None:
        super().__init__(message)
        self.diagnostics = tuple(diagnostics)


class ProgramRuntimeError(ProgramError):
    """A checked program failed while running (e.g. ``the("chair")`` with three chairs)."""

    exit_code = 7


class PlanningError(SpatialMemError):
    """A planner could not turn a question into a program."""

    exit_code = 8


class LLMError(SpatialMemError):
    """An LLM endpoint was unreachable, timed out, or answered with something unusable."""

    exit_code = 9


class LLMEndpointError(LLMError):
    """The endpoint itself failed (unreachable, deadline, HTTP error, unusable reply).

    ``attempts`` holds every HTTP attempt (``spatialmem.agent.llm_client.Attempt``) with why it failed.
    """

    attempts: tuple = ()


class RepairStalledError(LLMError):
    """The model sent the same rejected program again: repairing further would not change anything."""


def require_package(module: str, extra: str, purpose: str = ""):
    """Import and return an optional module, or raise :class:`MissingDependencyError`.

    Args:
        module: importable module name, e.g. ``"moderngl"``.
        extra: the pip extra of spatialmem that provides it, e.g. ``"render"``.
        purpose: a few words on what needs it, shown in the message.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only where the package is absent
        raise MissingDependencyError(module.split(".")[0], extra, purpose) from exc
