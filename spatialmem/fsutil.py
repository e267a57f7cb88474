"""File-system helpers: reading user text files with clear errors, and atomic directory replacement.

:func:`read_user_text` reads a file the user named (a program, annotations, a question file) and
turns every way it can be wrong (missing, a directory, not UTF-8) into an
:class:`~spatialmem.errors.InputError` naming the file; a UTF-8 byte-order mark is accepted.
:func:`check_output_file` and :func:`check_output_dir` refuse output paths that cannot be written
(a file where a folder is needed, a missing parent folder) before any work is done.

Atomic directory replacement is shared by the scene writer and the memory store.

A new directory is written into a hidden temporary sibling of its target (:func:`temp_sibling`),
then moved into place with :func:`swap_into_place`: an existing target is first renamed aside and
removed only once the new directory is in place; if the second rename fails the old target is
renamed back, so a failed swap never loses the previous content.

Temporary names are ``.<target>.partial-<pid>-<random>`` (and ``.<target>.old-<pid>-<random>``
while a swap is in progress), so folders left behind by a run that died can be recognised:
:func:`sweep_stale_partials` deletes the ``partial`` folders whose process no longer exists.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spatialmem.errors import InputError

__all__ = ["require_file", "read_user_text", "read_user_bytes", "decode_utf8", "check_output_file",
           "check_output_dir", "folder_lock", "temp_sibling", "swap_into_place", "sweep_stale_partials"]

BOM = "\ufeff"


def decode_utf8(data: bytes, where: str) -> str:
    """``data`` decoded as UTF-8 (a leading byte-order mark dropped); InputError naming ``where`` otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}); "
                         "save it as UTF-8") from None
    return text[1:] if text.startswith(BOM) else text


def require_file(path: Path, what: str = "file") -> Path:
    """``path`` when it is an existing file; InputError naming ``what`` when it is missing or a directory."""
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory, not a file; give the file inside it")
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist" if not path.exists() else f"{what} {path} is not a file")
    return path


def read_user_text(path: str | os.PathLike, what: str = "file") -> str:
    """The text of a file the user named, as UTF-8 (a byte-order mark is accepted and dropped).

    Raises:
        InputError: the path does not exist, is a directory, cannot be read or is not UTF-8;
            the message names ``what`` and the path.
    """
    p = require_file(Path(path), what)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    return decode_utf8(data, f"{what} {p}")


def read_user_bytes(path: str | os.PathLike, what: str = "file") -> bytes:
    """The bytes of a file the user named; InputError when it is missing, a directory or unreadable."""
    p = require_file(Path(path), what)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {exc.strerror or exc}") from None


def check_output_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """``path`` if a file can be written there: not a directory, and its parent folder exists.

    Parent folders are not created: a typo in a folder name should be an error, not a new folder.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} {p} is a directory; give a file name")
    if not p.parent.is_dir():
        raise InputError(f"{what} {p}: the folder {p.parent} does not exist; create it first")
    return p


def check_output_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """``path`` if it is an existing folder or can be created as one (it is not a file)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{what} {p} exists and is a file, not a folder; choose another path")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{what} {p}: {parent} is a file, not a folder; choose another path")
            break
    return p


LOCK_NAME = ".spatialmem.lock"


@contextmanager
def folder_lock(folder: Path, what: str = "another run") -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (a ``.spatialmem.lock`` file inside it) while the block runs.

    The lock is an OS file lock (``flock``): it is released when the process ends, however it ends,
    so a killed run never leaves a stale lock behind.

    Raises:
        InputError: another process holds the lock; the message names its process id.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise InputError(f"{folder} is in use by {what} (process {holder}); wait for it to finish or "
                             "choose another output folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


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


def sweep_stale_partials(folder: Path) -> list[Path]:
    """Delete every ``.<name>.partial-<pid>-*`` folder in ``folder`` whose process is gone; returns them.

    Called by writers when they start, so a run that was killed leaves nothing behind for long,
    whatever name it was writing. Only unfinished temporary folders are removed; ``old`` folders
    (which may hold the only copy of a target after a crash mid-swap) are left for the user.
    """
    pattern = re.compile(r"^\..+\.partial-(\d+)(-[0-9a-f]+)?$")
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = pattern.match(p.name)
        if m and p.is_dir() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed
