"""The served memories: names under the configured roots, loaded once and shared read-only.

A memory name is one path component (letters, digits, ``. _ -``; no leading dot), looked up in each
root in order; the resolved folder must lie inside its root (symlinks pointing outside are refused),
so no name can reach a file outside the roots. Loaded :class:`~spatialmem.memory.scene.SceneMemory`
objects are immutable; the library keeps the most recently used ones and reloads a memory whose
database changed on disk (e.g. a session saved over it).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path

from spatialmem.memory.scene import SceneMemory
from spatialmem.server.problems import ApiProblem

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(name: str, what: str = "memory") -> str:
    """Return ``name`` if it is a safe single path component, else raise a 400 problem."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        raise ApiProblem(400, "Invalid name", f"{what} name {name!r} is not allowed: use letters, digits, '.', '_' "
                         "and '-' (no path separators, no '..', at most 128 characters)")
    return name


class MemoryLibrary:
    """Memories under ``roots``, with an LRU cache of loaded snapshots (thread-safe)."""

    def __init__(self, roots: tuple[Path, ...], cache_size: int = 16) -> None:
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.cache_size = max(1, int(cache_size))
        self._cache: OrderedDict[Path, tuple[tuple[int, int], SceneMemory]] = OrderedDict()
        self._lock = threading.Lock()

    def path_of(self, name: str) -> Path:
        """The folder of memory ``name``; 400 for an unsafe name, 404 when no root holds it."""
        from spatialmem.memory.store import is_memory_dir

        check_name(name)
        for root in self.roots:
            p = (root / name).resolve()
            if p.parent != root:  # a symlink leading out of the root
                continue
            if is_memory_dir(p):
                return p
        raise ApiProblem(404, "Memory not found", f"no memory named {name!r} in the served folders; "
                         "GET /api/memories lists them")

    def names(self) -> list[dict]:
        """``[{"name", "root"}]`` of every memory folder in the roots (first root wins on equal names)."""
        from spatialmem.memory.store import is_memory_dir

        seen: dict[str, dict] = {}
        for k, root in enumerate(self.roots):
            for p in sorted(root.iterdir()):
                if p.name not in seen and NAME_RE.fullmatch(p.name) and p.resolve().parent == root \
                        and is_memory_dir(p):
                    seen[p.name] = {"name": p.name, "root": k}
        return list(seen.values())

    def _stamp(self, name: str) -> tuple[Path, tuple[int, int]]:
        from spatialmem.memory.store import DB_NAME

        path = self.path_of(name)
        st = (path / DB_NAME).stat()
        return path, (st.st_mtime_ns, st.st_ino)

    def cached(self, name: str) -> SceneMemory | None:
        """The memory ``name`` if it is loaded and unchanged on disk, else None (400/404 problems as get)."""
        path, stamp = self._stamp(name)
        with self._lock:
            hit = self._cache.get(path)
            if hit is not None and hit[0] == stamp:
                self._cache.move_to_end(path)
                return hit[1]
        return None

    def get(self, name: str) -> SceneMemory:
        """The loaded memory ``name`` (cached; reloaded when its database file changed)."""
        from spatialmem.memory.store import load_memory

        hit = self.cached(name)
        if hit is not None:
            return hit
        path, stamp = self._stamp(name)
        memory = load_memory(path)
        with self._lock:
            self._cache[path] = (stamp, memory)
            self._cache.move_to_end(path)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return memory
