"""Pausing Python's cyclic garbage collector during batch work.

Parsing a plan, building layouts and reading a folder of workbooks allocate millions of small,
acyclic objects that all stay alive. Each allocation burst makes the cyclic collector walk every
live object again: on a 200-sector plan that is half the time of a consolidation and 60% of a plan
parse. Reference counting still frees everything those objects drop; only garbage in reference
cycles waits until the collector runs again, after the batch.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block (re-entrant; restores the previous state)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
