"""The ``given`` instance backend: per-frame masks and category labels from the source.

Only the per-frame masks and category names are used; the source's instance ids are never handed
on (association across frames is the memory builder's geometric job).
"""

from __future__ import annotations

import numpy as np

from spatialmem.errors import FormatError
from spatialmem.perception.base import InstancesConfig
from spatialmem.types import Detection2D, Frame


class GivenInstances:
    """Turns ``frame.instance_ids`` + ``frame.instance_labels`` into :class:`Detection2D` masks."""

    exact = True  # the source's own data: the memory builder fits it exactly (memory/robust.py)

    def __init__(self, config: InstancesConfig | None = None) -> None:
        self.config = config or InstancesConfig()
        self._ignore = {c.strip().lower() for c in self.config.ignore_categories}

    def detect(self, frame: Frame) -> list[Detection2D]:
        """One detection per labelled id present with at least ``min_pixels`` pixels, ordered by id.

        Ids without a label, id 0 and ignored categories are skipped. Masks keep the id image's resolution.
        """
        return [d for _, d in self.detect_with_ids(frame)]

    def detect_with_ids(self, frame: Frame) -> list[tuple[int, Detection2D]]:
        """:meth:`detect`, each detection paired with its source instance id (for noise simulation only)."""
        ids = frame.instance_ids
        if ids is None:
            return []
        ids = np.asarray(ids)
        if ids.size and int(ids.min()) < 0:
            raise FormatError(f"frame {frame.index}: instance ids must be >= 0 (0 = background), "
                              f"found {int(ids.min())}")
        counts = np.bincount(ids.ravel()) if ids.size else np.zeros(1, np.int64)
        out: list[tuple[int, Detection2D]] = []
        for i in np.nonzero(counts >= max(1, self.config.min_pixels))[0].tolist():
            if i == 0:
                continue
            label = frame.instance_labels.get(int(i))
            if label is None:
                continue
            cat = str(label).strip().lower()
            if cat in self._ignore:
                continue
            out.append((int(i), Detection2D(frame_index=frame.index, category=cat, mask=ids == i, score=1.0)))
        return out
