"""THE operation table of the query language, complete: every section module's declarations, loaded.

Each operation is declared once, with :func:`spatialmem.dsl.declare.op`, next to its implementation
in one module per section (:mod:`.objects`, :mod:`.geometry`, :mod:`.cameras`, :mod:`.viewpoints`,
:mod:`.rendering`, :mod:`.answers`); attributes in :mod:`.attributes`. Importing this package loads
them all, so :data:`OPS` and :data:`ATTRIBUTES` are complete for the checker, the interpreter and
the generated reference. To add an operation, decorate its implementation in the right section module.
"""

from __future__ import annotations

from spatialmem.dsl.declare import ATTRIBUTES, OPS, SECTIONS, Attribute, Op, Param, Range, attributes_of

# each import registers its section's operations (the documented order comes from SECTIONS, not from here)
from spatialmem.dsl.ops import answers, attributes, cameras, geometry, objects, rendering, viewpoints  # noqa: F401

__all__ = ["OPS", "ATTRIBUTES", "SECTIONS", "Op", "Param", "Range", "Attribute", "attributes_of"]
