"""glibc's heap kept between the engine's pieces, for a process that ends when its command does.

The pair query works in pieces of about a thousand estates, each making and
freeing some megabytes of NumPy temporaries, in several threads. Under glibc's
defaults each thread's heap (an arena of its own) grows by what a piece asks
for and gives the top back as soon as it is freed, so every piece grows and
shrinks the heap again: an ``mprotect`` system call each time, and fresh pages
to fault in. ``strace -f -c`` of a process that makes the province layout and
runs the engine five times on two threads counted 19,737 ``mprotect`` and 961
``brk`` calls and 390,167 page faults; with :func:`keep_heap`, 166, 29 and
287,692. On two cores the time is within the noise: in ``bench --threads``
the kept heap ran two threads at 0.90x and 1.08x glibc's default in two
runs; ``python -m geo coverage`` at province size, alternated with the code
before in 10 pairs, took a median 0.09 s less wall and 0.16 s less CPU time,
with the same report.

On many cores the count may matter more than those figures say: ``mprotect``
takes the process's memory-map lock for writing, and every page fault of every
thread takes it for reading, so threads that grow and shrink heaps at once can
wait for each other in the kernel. That is not measured yet: ``bench --threads``
runs the curve under both settings to show it on the machine at hand. The
command's peak memory stayed within the range of runs before (1,174 MB at
province size).

Three settings (``mallopt``):

* ``M_TOP_PAD`` 64 MB: a heap grows 64 MB beyond each request, so a piece's
  temporaries come and go without a system call;
* ``M_TRIM_THRESHOLD`` 256 MB: a heap gives memory back to the system only when
  more than that lies free at its top (glibc's default gives back 128 kB and up);
* ``M_MMAP_THRESHOLD`` 32 MB (glibc's largest default): blocks up to 32 MB come
  from the heaps, not from a ``mmap`` of their own that is unmapped, and its
  pages faulted in again, at every free. Setting any of the three ends glibc's
  own adjustment of this threshold, so it is set here explicitly.

Memory is given back to the system only beyond those 256 MB per heap, and all
of it when the process ends. Only ``python -m geo`` applies it, for commands
that end when their output is written (:func:`geo.cli.main.main`); the app,
a long-lived server, keeps glibc's defaults. Results never depend on it: it
decides where temporaries live, not what they hold.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

__all__ = ["MMAP_THRESHOLD_BYTES", "TOP_PAD_BYTES", "TRIM_THRESHOLD_BYTES", "keep_heap"]

#: What a heap keeps free at its top, and grows by beyond a request.
TOP_PAD_BYTES = 64 * 1024 * 1024

#: Free memory at a heap's top beyond which the heap gives memory back to the system.
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024

#: Blocks from this size up are mapped on their own; below it they come from the heaps.
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024

# mallopt's parameter numbers (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3


def keep_heap() -> bool:
    """Keep glibc's heaps between allocations (see the module text); True when set, False where the C library is not glibc.

    Safe at any time: memory allocated before keeps its place.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (_M_TOP_PAD, TOP_PAD_BYTES), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    return all([bool(mallopt(name, value)) for name, value in settings])
