"""What operation implementations share: the run context, the failure type and small helpers.

Every implementation takes a :class:`Context` first and then its arguments in declared order, already
type-checked. Failures raise :class:`Fail` (a runtime diagnostic code, message and hint); the
interpreter attaches the source position. Long loops call :meth:`Context.tick` so the run's
deadline holds inside an operation, not only between calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl.values import Quantity
from spatialmem.memory import measure
from spatialmem.memory.scene import ObjectInstance, SceneMemory
from spatialmem.vocab import category_hint

EYE_HEIGHT_M = 1.5


class Fail(Exception):
    """A runtime failure of an operation: diagnostic ``code``, message and repair hint."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@dataclass
class Context:
    """What operations may touch while a program runs: the memory, the answer, the shown images, the deadline.

    ``deadline``: ``time.perf_counter()`` value after which :meth:`tick` fails with ``R411``
    (``max_seconds`` is the limit it came from, for the message).
    """

    memory: SceneMemory
    images: list[np.ndarray] = field(default_factory=list)
    answer: object = None
    answered: bool = False
    deadline: float = float("inf")
    max_seconds: float = float("inf")

    def tick(self) -> None:
        """Fail with ``R411`` once the run is past its deadline (called inside long loops)."""
        if time.perf_counter() > self.deadline:
            raise Fail(D.TIME_LIMIT, f"the program ran longer than {self.max_seconds:g} s",
                       "simplify the program: fewer objects (objects(\"...\") or where(...)) or fewer steps")


def closest_distance(ctx: Context, a: ObjectInstance, b: ObjectInstance) -> float:
    """Closest-point distance (m) between two instances of the run's memory (cached per memory)."""
    return measure.closest_distance(ctx.memory, a, b)


def center_distance(a: ObjectInstance, b: ObjectInstance) -> float:
    """Distance (m) between the box centres of two instances."""
    return float(np.linalg.norm(a.box.center - b.box.center))


def m(x: float) -> Quantity:
    """A length in metres."""
    return Quantity(float(x), "m")


def describe(o: ObjectInstance) -> str:
    """``"chair #6 at (1.00, 2.00, 0.45)"``: an instance as named in messages."""
    c = o.box.center
    return f"{o.category} #{o.id} at ({c[0]:.2f}, {c[1]:.2f}, {c[2]:.2f})"


def instances(ctx: Context, category: str) -> list[ObjectInstance]:
    """The instances of a category; ``E240`` with suggestions when the memory has no such category."""
    insts = ctx.memory.by_category(str(category))
    if not insts:
        cats = ctx.memory.categories()
        name = str(category).strip().lower()
        if name not in cats:
            raise Fail(D.UNKNOWN_CATEGORY, f'category "{category}" is not in this memory', category_hint(name, cats))
    return insts


def first_seen(o: ObjectInstance) -> float:
    """When ``o`` was first seen (s); ``R416`` when the memory has no observation times."""
    if o.first_seen_s is None:
        raise Fail(D.NO_TIMES, f"the first time {describe(o)} was seen is unknown",
                   "this memory has no observation times (e.g. imported from boxes); use another cue")
    return float(o.first_seen_s)


def xy(o: ObjectInstance) -> np.ndarray:
    """The (2,) floor-plane position of an instance's box centre, metres."""
    return np.asarray(o.box.center[:2], dtype=np.float64)


def unit_vector(v: np.ndarray, what: str) -> np.ndarray:
    """``v`` normalised; ``R417`` when it has no direction."""
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        raise Fail(D.DEGENERATE, f"{what} has no direction (the two positions coincide on the floor plane)",
                   "pick a different reference object to face")
    return v / n
