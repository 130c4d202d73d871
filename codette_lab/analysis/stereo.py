"""Stereo image: phase correlation and width of the front left/right pair."""

from __future__ import annotations

from typing import Any

import numpy as np


def measure_stereo(x: np.ndarray) -> dict[str, Any]:
    """stereo_correlation (-1..1) and stereo_width (0..1).

    correlation = sum(L*R) / sqrt(sum(L*L) * sum(R*R)): +1 for identical
    channels, -1 for a polarity-inverted copy, about 0 for unrelated ones.
    width = side energy / (mid + side energy), with mid = (L+R)/2 and side =
    (L-R)/2: 0 for mono, 0.5 for unrelated equal channels, 1 for opposite ones.
    Mono input reads correlation 1 and width 0 (a mono signal is centred by
    definition); with more than two channels the first two (front left and
    right in the BS.1770 order) are measured. Silence has neither (None).
    """
    if x.shape[0] == 1:
        return {"stereo_correlation": 1.0, "stereo_width": 0.0}
    left, right = x[0], x[1]
    ll, rr, lr = (float(np.dot(a, b)) for a, b in ((left, left), (right, right), (left, right)))
    if ll + rr <= 0:
        return {"stereo_correlation": None, "stereo_width": None}
    width = min(1.0, max(0.0, 0.5 * (1.0 - 2.0 * lr / (ll + rr))))
    correlation = 1.0 if ll == 0 or rr == 0 else min(1.0, max(-1.0, lr / (ll * rr) ** 0.5))
    return {"stereo_correlation": correlation, "stereo_width": width}
