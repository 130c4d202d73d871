"""Pages a frame-parser gives back as it sends decoded audio (``heap.forget_pages``) leave the process at once."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from codette_lab.heap import forget_pages

MIB = 2**20


def resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise and /proc are Linux's")
def test_forgotten_pages_leave_the_process_and_read_as_zeros() -> None:
    audio = np.ones(64 * MIB // 4, dtype=np.float32)  # its own pages (far over any mmap threshold), all touched
    before = resident_bytes()
    half = audio.nbytes // 2
    forget_pages(audio.data.cast("B")[:half])
    dropped = before - resident_bytes()
    assert dropped >= 30 * MIB, f"only {dropped / MIB:.1f} MB left the process"
    assert not audio[1024 : half // 4 - 1024].any()  # the forgotten part (but for partial pages at its ends)
    assert (audio[half // 4 + 1024 :] == 1.0).all()  # the rest is untouched
