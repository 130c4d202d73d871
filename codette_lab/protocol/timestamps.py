"""ISO-8601 UTC timestamps with milliseconds and ``Z``, as every message carries them."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_timestamp(moment: datetime | None = None) -> str:
    """``2025-12-03T21:00:00.000Z`` for ``moment`` (default: now)."""
    moment = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
