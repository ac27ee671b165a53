"""Freed memory is overwritten, so document text cannot reach a file through it.

Found by the scan test (tests/rag/test_privacy.py): Chroma's HNSW index files
(``data_level0.bin``) are written from buffers that are malloc'd and never cleared, and
their unused slots held whatever the process had freed there before, page text
included. glibc's ``M_PERTURB`` fills every freed block with one byte and every new
block with its complement, so such slack holds a constant instead. Elsewhere (macOS,
Windows) there is no such switch at run time; full-disk encryption covers the index.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_PERTURB = -6  # from glibc's malloc.h


def scrub_freed_memory() -> bool:
    """Turn on glibc's malloc perturbation for this process; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_PERTURB, 0xA5))
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
