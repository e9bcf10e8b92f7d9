"""Output paths checked before anything is computed: a run never fails at the end because
its result cannot be written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _first_existing_parent(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(".")


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder``: asked of the file system itself (a
    temporary file, removed at once), since ``os.access`` says yes to root everywhere,
    also on file systems where nothing can be created (/proc, read-only mounts)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _check_parent_chain(path: Path, name: str) -> None:
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{name}: {path} lies under {parent}, which is a file, not a folder")
            break
    base = _first_existing_parent(path)
    if not _writable(base):
        raise ValueError(f"{name}: cannot create {path}: folder {base} is not writable")


def check_output_file(path: str | os.PathLike, name: str) -> Path:
    """Raise a ValueError naming option ``name`` unless a file can be written at ``path``.

    Refused: an existing folder, a path under an existing file, an unwritable existing file
    or an unwritable nearest existing folder. Nothing is left behind (writability is
    probed with a temporary file).

    >>> check_output_file("/", "--json")
    Traceback (most recent call last):
    ...
    ValueError: --json: / is a folder; give a file name
    """
    p = Path(path)
    if str(path) == "":
        raise ValueError(f"{name}: empty path")
    if p.is_dir():
        raise ValueError(f"{name}: {p} is a folder; give a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise ValueError(f"{name}: {p} exists and is not writable")
    _check_parent_chain(p, name)
    return p


def check_output_dir(path: str | os.PathLike, name: str) -> Path:
    """Raise a ValueError naming option ``name`` unless ``path`` is, or can be created as, a
    writable folder. Nothing is left behind."""
    p = Path(path)
    if str(path) == "":
        raise ValueError(f"{name}: empty path")
    if p.exists():
        if not p.is_dir():
            raise ValueError(f"{name}: {p} is a file, not a folder")
        if not _writable(p):
            raise ValueError(f"{name}: folder {p} is not writable")
        return p
    _check_parent_chain(p, name)
    return p
