"""One writer per output folder: an exclusive, non-blocking ``flock`` on a lock file inside it.

:func:`folder_lock` takes ``FOLDER/.lock`` (holding the owner's pid) for the duration of a
``with`` block; a second process asking for the same folder is refused at once with a
one-line ValueError naming the owner's pid. The operating system drops a ``flock`` when its
process ends, also on ``kill -9``, so a crashed run never leaves the folder locked (a stale
``.lock`` file is taken over). Re-entrant within one process (nested blocks on the same
folder share the lock). POSIX only; where ``fcntl`` is missing the lock is a no-op.

Example
-------
>>> import tempfile
>>> from analysis.runtime._lock import folder_lock, folder_lock_owner
>>> with tempfile.TemporaryDirectory() as d, folder_lock(d):
...     folder_lock_owner(d) == __import__("os").getpid()
True
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"

_held: dict[str, tuple[int, int]] = {}  # resolved folder -> (fd, nesting depth)
_guard = threading.Lock()


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def folder_lock_owner(folder: str | os.PathLike) -> int | None:
    """Pid written in ``folder``/.lock, or None (no lock file or no pid in it). Says who took
    the lock last; whether it is still held is known only to :func:`folder_lock`."""
    return _read_pid(Path(folder) / LOCK_NAME)


def _acquire(folder: Path, what: str) -> int:
    path = folder / LOCK_NAME
    for _ in range(20):  # another process may remove the lock file between open and flock
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = _read_pid(path)
            who = f"process {pid}" if pid is not None else "another process"
            raise ValueError(
                f"{what} {folder} is in use by {who} (lock {path}); wait for it to end or "
                f"choose another folder"
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # locked a file that its owner removed on release: take the new one
    raise ValueError(f"could not lock {what} {folder}: its lock file {path} keeps changing")


def _release(folder: Path, fd: int, created: bool) -> None:
    path = folder / LOCK_NAME
    with contextlib.suppress(OSError):
        path.unlink()  # while still locked, so no one else can hold a lock on this file
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    if created:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if empty: a refused run leaves no folder behind


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, what: str = "run folder") -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (created if missing) inside the ``with`` block.

    Refuses (ValueError: ``<what> FOLDER is in use by process PID (lock ...)``) when another
    process holds it. On release the lock file is removed, and the folder too when this call
    created it and it is still empty. Yields the folder as a Path.
    """
    folder = Path(folder)
    if fcntl is None:  # pragma: no cover
        yield folder
        return
    key = os.path.realpath(folder)
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield folder
        finally:
            with _guard:
                fd, depth = _held[key]
                _held[key] = (fd, depth - 1)
        return
    created = not folder.exists()
    fd = _acquire(folder, what)
    with _guard:
        _held[key] = (fd, 1)
    try:
        yield folder
    finally:
        with _guard:
            _held.pop(key, None)
        _release(folder, fd, created)
