"""Stereo image: phase correlation, width and balance of the front left/right pair."""

from __future__ import annotations

from typing import Any

import numpy as np

from .fixed_order import dot

#: The metrics :func:`measure_stereo` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("stereo_correlation", "stereo_width", "stereo_balance")
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"stereo_correlation": 4, "stereo_width": 4, "stereo_balance": 4}

#: A channel this far (dB of energy) below the other counts as silent: the pair is one-sided.
SILENT_CHANNEL_DB = -100.0


def measure_stereo(x: np.ndarray) -> dict[str, Any]:
    """stereo_correlation (-1..1 or None), stereo_width (0..1) and stereo_balance (-1..1).

    correlation = sum(L*R) / sqrt(sum(L*L) * sum(R*R)): +1 for identical
    channels, -1 for a polarity-inverted copy, about 0 for unrelated ones.
    It is undefined (None) when one channel is silent (more than 100 dB of
    energy below the other), as for a hard-panned mono track: there is no
    second signal to be in or out of phase with.

    width = side energy / (mid + side energy), with mid = (L+R)/2 and side =
    (L-R)/2 (what an M/S meter shows): 0 for mono, 0.5 for unrelated equal
    channels, 1 for opposite ones. It is defined whenever there is sound: a
    hard-panned (fully one-sided) track has as much side as mid energy and
    reads 0.5, so width alone does not tell it from a wide stereo source.

    balance = (R energy - L energy) / (L + R energy): -1 fully left, 0
    centred, +1 fully right. It is what says a track is one-sided.

    Mono input reads correlation 1, width 0 and balance 0 (a mono signal is
    centred by definition), unless silent; with more than two channels the first two (front
    left and right in the BS.1770 order) are measured. Silence has none of
    the three (None).
    """
    if x.shape[0] == 1:
        if not np.any(x[0]):  # silence has no image, mono or not
            return dict.fromkeys(OUTPUTS)
        return {"stereo_correlation": 1.0, "stereo_width": 0.0, "stereo_balance": 0.0}
    left, right = x[0], x[1]
    ll, rr, lr = (dot(a, b) for a, b in ((left, left), (right, right), (left, right)))
    total = ll + rr
    if total <= 0:
        return dict.fromkeys(OUTPUTS)
    width = min(1.0, max(0.0, 0.5 * (1.0 - 2.0 * lr / total)))
    balance = min(1.0, max(-1.0, (rr - ll) / total))
    one_sided = min(ll, rr) <= max(ll, rr) * 10.0 ** (SILENT_CHANNEL_DB / 10.0)
    correlation = None if one_sided else min(1.0, max(-1.0, lr / (ll * rr) ** 0.5))
    return {"stereo_correlation": correlation, "stereo_width": width, "stereo_balance": balance}
