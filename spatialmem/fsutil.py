"""Atomic directory replacement shared by the scene writer and the memory store.

A new directory is written into a hidden temporary sibling of its target (:func:`temp_sibling`),
then moved into place with :func:`swap_into_place`: an existing target is first renamed aside and
removed only once the new directory is in place; if the second rename fails the old target is
renamed back, so a failed swap never loses the previous content.

Temporary names are ``.<target>.partial-<pid>-<random>`` (and ``.<target>.old-<pid>-<random>``
while a swap is in progress), so folders left behind by a run that died can be recognised:
:func:`remove_stale_partials` deletes the ``partial`` folders whose process no longer exists.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

__all__ = ["temp_sibling", "swap_into_place", "remove_stale_partials"]


def temp_sibling(target: Path, kind: str = "partial") -> Path:
    """A fresh hidden path beside ``target``: ``.<name>.<kind>-<pid>-<8 hex digits>`` (not created)."""
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def swap_into_place(tmp: Path, target: Path) -> None:
    """Move the finished directory ``tmp`` to ``target``, replacing an existing ``target``.

    Raises:
        OSError: a rename failed. ``target`` then holds its previous content again (if it had
            any) and ``tmp`` has been removed.
    """
    old = temp_sibling(target, "old")
    had_old = target.exists()
    try:
        if had_old:
            os.replace(target, old)
        os.replace(tmp, target)
    except OSError:
        if had_old and old.exists() and not target.exists():
            os.replace(old, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (owned by someone else) or unknown: keep it
    return True


def remove_stale_partials(target: Path) -> list[Path]:
    """Delete ``.<target>.partial-<pid>-*`` folders beside ``target`` whose process is gone; returns them.

    Only unfinished temporary folders are removed; ``old`` folders (which may hold the only copy of
    a target after a crash mid-swap) are left for the user.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.partial-(\d+)(-[0-9a-f]+)?$")
    removed = []
    if not target.parent.is_dir():
        return removed
    for p in target.parent.iterdir():
        m = pattern.match(p.name)
        if m and p.is_dir() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed
