"""The paper builder's error type (its own module, so that every part can raise it)."""

from __future__ import annotations


class PaperError(ValueError):
    """A paper cannot be built from these inputs (message says why and what to run)."""
