"""Process-wide interpreter settings that the engine's hot path depends on.

CPython's cyclic garbage collector runs a young-generation collection every time
container allocations outnumber deallocations by 700. The receiver allocates a
few dozen short-lived containers per request (parsed JSON, the record, futures)
that all die by reference counting: none is part of a cycle (checked under load
with gc.DEBUG_SAVEALL). Yet with 64 requests in flight the counter keeps
crossing 700, and every collection walks the objects of the requests still in
flight and promotes them, which in turn triggers full collections. Measured with
benchmarks/ingest.py (CPU time inside the collector, gc.callbacks): about 350
collections in 5 s, 12-25 us of CPU per SET (4-7 % of a request), finding
nothing. With the young threshold at 5000: about 12 collections, ~1 us per SET.
Cycles are still collected, in larger and rarer batches; a young collection of
5000 objects takes well under a millisecond, so the window does not notice.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 5000


def tune_gc() -> None:
    """Raise the young-generation threshold to YOUNG_THRESHOLD (idempotent). A higher
    threshold, or a collector switched off (0), is left as the process set it."""
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
