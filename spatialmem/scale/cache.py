"""Content-addressed memory cache: one built memory per (input content, perception config).

A cache entry is a memory directory ``ROOT/<scene>-<key>`` where ``key`` hashes the input's bytes
(a video file, or every file of a scene folder) together with the perception fingerprint (backends,
their options, the builder settings, spatialmem's memory schema). Changing the planner therefore never
re-ingests, and changing anything about perception always does. Entries are written atomically by the
memory store, so a worker that dies mid-ingest leaves no entry behind, only a stale ``.partial``
folder that the next writer removes.

Hashing a large input is the slow part of a cache hit, so each input's hash is memoised under
``ROOT/hashes/`` against its stat signature (relative paths, sizes, modification times): an unchanged
input is not read again.

The root is ``--cache-dir``, else ``$SPATIALMEM_CACHE``, else ``$XDG_CACHE_HOME/spatialmem/memories``
(``~/.cache/spatialmem/memories``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialmem.errors import InputError

CACHE_ENV = "SPATIALMEM_CACHE"
_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    """The cache root when none is given (see the module docstring)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "spatialmem" / "memories"


def _files(path: Path) -> list[Path]:
    """The regular files of an input, sorted; hidden files and folders (temporary writes) are skipped."""
    if path.is_file():
        return [path]
    out = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(root) / f for f in sorted(files) if not f.startswith(".")]
    return out


def stat_signature(path: Path) -> str:
    """A hash of an input's file names, sizes and modification times (no file is read)."""
    h = hashlib.sha256()
    for f in _files(path):
        st = f.stat()
        h.update(f"{f.relative_to(path) if f != path else f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def content_hash(path: Path) -> str:
    """SHA-256 of an input's content: a file's bytes, or a folder's relative paths and file bytes."""
    if not path.exists():
        raise InputError(f"{path} does not exist")
    h = hashlib.sha256()
    for f in _files(path):
        rel = f.name if f == path else f.relative_to(path).as_posix()
        h.update(rel.encode("utf-8") + b"\0")
        with f.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def fingerprint_key(fingerprint: dict[str, Any]) -> str:
    """A stable hash of a JSON-able perception fingerprint (key order does not matter)."""
    text = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """Where the memory of one input under one perception lives, and whether it is already built."""

    path: Path
    key: str
    content: str
    hit: bool


class MemoryCache:
    """The cache under ``root`` (created on first use)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def input_hash(self, path: Path) -> str:
        """``content_hash(path)``, memoised against the input's stat signature."""
        path = Path(path).resolve()
        memo_dir = self.root / "hashes"
        memo = memo_dir / (hashlib.sha1(str(path).encode("utf-8")).hexdigest() + ".json")
        sig = stat_signature(path)
        try:
            saved = json.loads(memo.read_text(encoding="utf-8"))
            if saved.get("stat") == sig and isinstance(saved.get("sha256"), str):
                return saved["sha256"]
        except (OSError, ValueError):
            pass  # no memo yet, or an unreadable one: hash again
        digest = content_hash(path)
        memo_dir.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f".{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"path": str(path), "stat": sig, "sha256": digest}), encoding="utf-8")
        os.replace(tmp, memo)
        return digest

    def entry(self, name: str, input_path: Path, fingerprint: dict[str, Any]) -> CacheEntry:
        """The cache entry for ``input_path`` under ``fingerprint``; ``name`` makes the folder readable."""
        from spatialmem.memory.store import is_memory_dir

        content = self.input_hash(input_path)
        key = fingerprint_key({"content": content, "perception": fingerprint})
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "scene"
        path = self.root / f"{safe}-{key[:24]}"
        return CacheEntry(path=path, key=key, content=content, hit=is_memory_dir(path))
