"""geo._heap: glibc's heaps kept between the engine's pieces, checked on glibc's own counts in fresh processes."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from geo._heap import TOP_PAD_BYTES

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="mallopt and mallinfo2 are glibc's")

#: A fresh interpreter that optionally keeps the heap, then mallocs and frees blocks and prints what glibc counted:
#: how many blocks were mapped on their own (hblks) while the 16 MB block was held, and the free space kept at the
#: top of the main heap (keepcost) after a 1 MB block was freed.
_PROBE = """
import ctypes, sys
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "kept":
    from geo._heap import keep_heap
    assert keep_heap()
before = libc.mallinfo2().hblks
block = libc.malloc(16 * 1024 * 1024)
mapped = libc.mallinfo2().hblks - before
libc.free(block)
small = libc.malloc(1024 * 1024)
libc.free(small)
print(mapped, libc.mallinfo2().keepcost)
"""


def _probe(mode: str) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    mapped, keep = done.stdout.split()
    return int(mapped), int(keep)


def test_blocks_up_to_32_mb_come_from_the_heap_and_its_top_is_kept():
    mapped, keep = _probe("default")
    assert mapped == 1  # glibc's default: a 16 MB block is mapped on its own (and unmapped when freed)
    assert keep < TOP_PAD_BYTES
    mapped, keep = _probe("kept")
    assert mapped == 0  # from the heap: freed into it, not unmapped
    assert keep >= TOP_PAD_BYTES  # 64 MB left at the top after the frees: the next piece needs no system call

