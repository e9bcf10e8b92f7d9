"""Writing results that users can load back: JSON-safe conversion and atomic writes."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from analysis.runtime._provenance import provenance


def to_jsonable(obj: Any) -> Any:
    """Convert arrays, numpy/JAX scalars, dataclasses, tuples and Paths to JSON types.

    Non-finite floats become the strings "nan", "inf", "-inf" so that files stay valid JSON.
    """
    if hasattr(obj, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (str, bool)) or obj is None:
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        arr = np.asarray(obj)
        if arr.ndim == 0:
            return to_jsonable(arr.item())
        return [to_jsonable(v) for v in arr.tolist()] if arr.dtype.kind == "f" else arr.tolist()
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    return str(obj)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + rename); makes parent dirs.

    The file gets the mode a plain ``open(path, "w")`` would give (0666 less the umask),
    not the 0600 of the temporary file, so colleagues sharing a machine can read results.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_atomic_litter(folder: str | os.PathLike, names) -> list[Path]:
    """Remove the temporary files that :func:`atomic_write_bytes` leaves when its process is
    killed mid-write (``.NAME.<random>.tmp``, up to the size of the file being written) for
    each NAME in ``names`` (file names or glob patterns such as ``epoch_*.npz``) in
    ``folder``. Call it only while no other process writes there (e.g. under
    :func:`analysis.runtime._lock.folder_lock`). Returns the paths removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    gone = []
    for name in names:
        for p in folder.glob(f".{name}.*.tmp"):
            if p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
                gone.append(p)
    return gone


def write_json(path: str | os.PathLike, obj: Any, *, seeds: Any = None, profile: str | None = None) -> Path:
    """Write ``obj`` (converted by :func:`to_jsonable`) as indented JSON, atomically.

    A dict gets the provenance block :func:`analysis.runtime._provenance.provenance` (with ``seeds``
    and ``profile``) as its first key ``meta``; keys of a ``meta`` dict already in ``obj``
    are kept on top of it.
    """
    if isinstance(obj, dict):
        meta = {**provenance(seeds=seeds, profile=profile), **dict(obj.get("meta") or {})}
        obj = {"meta": meta, **{k: v for k, v in obj.items() if k != "meta"}}
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=False)
    return atomic_write_bytes(path, (text + "\n").encode())
