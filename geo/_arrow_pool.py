"""Arrow's allocator for the whole process: jemalloc where the installed pyarrow has it.

pyarrow's Linux wheels allocate with mimalloc unless told otherwise, and
mimalloc takes its memory in transparent huge pages where the kernel allows
them (``madvise``, the usual setting). The first touch of a huge page costs
the kernel a 2 MB clear and, when memory is fragmented, a compaction; on the
benchmark machine (a virtual machine, Linux 6.18) that came to milliseconds a
page. jemalloc, as Arrow configures it, asks for no huge pages, so its cost
does not hang on how the host serves them. Alternated runs of the same
commands on that machine (3 December 2026; ``docs/benchmarks.md``, "Arrow's
allocator"):

* ``python -m geo incidents import`` of the 1 M-row export, 5 runs each:
  system (kernel) time 1.1-2.3 s with mimalloc, 0.5-0.9 s with jemalloc;
  peak memory 465-493 MB against 430-446 MB. The system allocator was about
  as fast as jemalloc but peaked at 548-589 MB;
* ``python -m geo coverage`` at province size, 3 runs each: 8.3-8.8 s with
  mimalloc, 7.0-7.7 s with jemalloc, 7.6-8.0 s with the system allocator.
  One ``take`` of 2.4 M team ids (the table's team lists) took 0.44-0.65 s
  under mimalloc in that process, 0.05-0.07 s under mimalloc with huge pages
  switched off for the process, and 0.03-0.06 s under jemalloc.

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
