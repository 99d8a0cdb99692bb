"""Arrow's allocator for the whole process: jemalloc where the installed pyarrow has it.

pyarrow's Linux wheels allocate with mimalloc unless told otherwise. On the
benchmark machine (Linux 6, transparent huge pages on ``madvise``) that cost
the two commands users run at scale a second or more of kernel time, with no
gain elsewhere. Alternated runs of the same commands, 3 each (13:2x UTC, 3
December 2026; ``docs/benchmarks.md``, "Arrow's allocator"):

* ``python -m geo incidents import`` of the 1 M-row export: system time
  1.1-2.3 s with mimalloc, 0.5-0.9 s with jemalloc; peak 466-493 MB against
  430-446 MB. The system allocator was as fast but peaked at 548-589 MB;
* ``python -m geo coverage`` at province size: 8.3-8.8 s with mimalloc,
  7.0-7.7 s with jemalloc, 7.6-8.0 s with the system allocator. A single
  ``take`` of 2.4 M team ids took 0.44-0.65 s under mimalloc in that process
  and 0.03-0.06 s under either of the others.

The stores and reports are byte for byte the same whichever allocator runs:
it decides where Arrow's buffers live, not what they hold. A user who names an
allocator in ``ARROW_DEFAULT_MEMORY_POOL`` keeps it.
"""

from __future__ import annotations

import os

__all__ = ["POOL_VARIABLE", "use_jemalloc"]

#: The environment variable in which Arrow reads the user's choice of allocator.
POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def use_jemalloc() -> str:
    """Make jemalloc Arrow's default allocator, unless the user chose one or this pyarrow lacks it.

    Buffers allocated before the switch stay with the allocator that made
    them (each Arrow buffer frees itself through its own pool), so the call
    is safe at any time; the entry points make it first thing.

    Returns
    -------
    str
        The name of the allocator in use afterwards (``"jemalloc"``,
        ``"mimalloc"`` or ``"system"``).
    """
    import pyarrow as pa  # pandas imports it anyway: no start-up cost of its own

    if os.environ.get(POOL_VARIABLE, "").strip():
        return pa.default_memory_pool().backend_name
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc (Windows wheels): keep its default
        return pa.default_memory_pool().backend_name
    pa.set_memory_pool(pool)
    return pool.backend_name
