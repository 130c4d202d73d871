"""How the process heap (glibc malloc) treats the large buffers audio work allocates.

glibc serves an allocation from its heap, where freed memory stays in the
process until the heap is trimmed, or from pages of its own (mmap), given
back when freed but mapped and zeroed afresh each time. Which one is set by
the mmap threshold. Both extremes cost: a measurement allocates temporaries of
a few megabytes, and at a 1 MiB threshold each is mapped and zeroed anew;
Dask's workers start with ``MALLOC_TRIM_THRESHOLD_=65536``, which leaves the
threshold at 128 KiB, lower still. So processes that measure fix the
threshold at glibc's own ceiling (:func:`prepare_for_measuring`).

Touching fresh pages is what large frames cost most on the server's event
loop (thirty 14 MB clips arriving at once need about a gigabyte), so a server
also keeps what it freed during a burst (:func:`prepare_for_serving`) and
gives it all back with :func:`trim_heap` once no request holds audio.
Elsewhere than glibc all this does nothing. Which processes get which
thresholds (only those the project starts) is decided in :mod:`.processes`.
"""

from __future__ import annotations

import ctypes
import ctypes.util

MIB = 2**20
#: Allocations of this size or more get pages of their own in processes that measure (glibc's dynamic
#: threshold ends here too, but only after large frees have raised it).
MEASURING_MMAP_THRESHOLD = 32 * MIB
#: A measuring process's heap trims itself past this much free memory at its top (glibc's own rule:
#: twice the mmap threshold), so a corpus worker never keeps much more than one file's worth.
MEASURING_TRIM_THRESHOLD = 2 * MEASURING_MMAP_THRESHOLD
#: A server's heap keeps up to this much freed memory through a burst of requests (it trims itself
#: only beyond); :func:`trim_heap` gives it back when the server falls idle.
SERVING_TRIM_THRESHOLD = 1024 * MIB
#: Seconds a server stays idle (no audio, no analysis in flight) before it trims its heap.
TRIM_AFTER_IDLE_S = 0.5
#: A process that only holds frames and their samples (a server's frame-parser): every buffer of a
#: mebibyte or more gets its own pages, so each frame's memory is gone once it is answered.
HOLDING_MMAP_THRESHOLD = MIB

#: madvise's advice that a range of pages will not be read again (Linux: they are dropped at once).
_MADV_DONTNEED = 4
#: madvise's advice that a range is to be backed by ordinary pages, never transparent huge ones (Linux).
_MADV_NOHUGEPAGE = 15
#: The size of an ordinary page (Linux on x86-64 and most ARM systems).
_PAGE = 4096
#: glibc's mallopt parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        library = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return library if library is not None and hasattr(library, "malloc_trim") else None


_LIBC = _libc()


def set_heap_thresholds(mmap_threshold: int, trim_threshold: int | None = None) -> None:
    """Allocations of ``mmap_threshold`` bytes or more get pages of their own from now on (given back
    when freed); with ``trim_threshold``, the heap trims itself past that much free memory at its top."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
        if trim_threshold is not None:
            _LIBC.mallopt(_M_TRIM_THRESHOLD, trim_threshold)


def prepare_for_measuring() -> None:
    """The thresholds of a process that measures audio (see the module's text)."""
    set_heap_thresholds(MEASURING_MMAP_THRESHOLD, MEASURING_TRIM_THRESHOLD)


def prepare_for_serving() -> None:
    """The thresholds of a server, which measures and calls :func:`trim_heap` when it falls idle."""
    set_heap_thresholds(MEASURING_MMAP_THRESHOLD, SERVING_TRIM_THRESHOLD)


def trim_heap() -> None:
    """Give the heap's free pages back to the system (it may take milliseconds: not on an event loop)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def forget_pages(buffer: memoryview) -> None:
    """Give back to the system the whole pages inside ``buffer``, which nothing will read again.

    For a buffer with pages of its own (over the mmap threshold): a frame-parser sends the decoded audio
    to the server piece by piece and drops each piece once written, so the audio is not held twice, in
    the child and in the server, while it crosses the pipe. The buffer's bytes read as zeros afterwards.
    Does nothing without glibc or Linux's madvise.
    """
    _advise(buffer, _MADV_DONTNEED)


def small_pages(buffer: memoryview) -> None:
    """Have the kernel back the whole pages inside ``buffer`` (not yet touched) with ordinary pages.

    NumPy asks for transparent huge pages for every array of 4 MB or more. Where free memory is
    fragmented, a fault on a huge page waits while the kernel compacts memory to find 2 MB in one
    piece: filling a fresh 212 MB buffer (a 10-minute stereo track) was seen to take 0.5 s of CPU that
    way, against a steady 0.1 s in ordinary pages. For buffers filled once from a pipe, where that
    wait would be paid on the way to an answer. Does nothing without glibc or Linux's madvise.
    """
    _advise(buffer, _MADV_NOHUGEPAGE)


def _advise(buffer: memoryview, advice: int) -> None:
    """madvise ``advice`` for the whole pages inside ``buffer`` (nothing without glibc or madvise)."""
    if _LIBC is None or not hasattr(_LIBC, "madvise") or not buffer.nbytes:
        return
    import numpy as np

    address = int(np.frombuffer(buffer, dtype=np.uint8).ctypes.data)
    start, stop = -(-address // _PAGE) * _PAGE, (address + buffer.nbytes) // _PAGE * _PAGE
    if stop > start:
        _LIBC.madvise(ctypes.c_void_p(start), ctypes.c_size_t(stop - start), advice)
