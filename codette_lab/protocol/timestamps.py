"""ISO-8601 UTC timestamps with milliseconds and ``Z``, as every message carries them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

# Every reply carries a timestamp, so for "now" the seconds part is formatted
# once per second and only the milliseconds are appended. The cache is one
# tuple, replaced whole, so threads never pair a second with another's text.
_cache: tuple[int, str] = (-1, "")


def utc_timestamp(moment: datetime | None = None) -> str:
    """``2025-12-03T21:00:00.000Z`` for ``moment`` (default: now)."""
    global _cache
    if moment is not None:
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    second, rest = divmod(time.time_ns(), 1_000_000_000)
    cached_second, text = _cache
    if second != cached_second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        _cache = (second, text)
    return f"{text}{rest // 1_000_000:03d}Z"
