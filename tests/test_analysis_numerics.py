"""Measurements are the same bit for bit whatever BLAS's threads, and are reported at their declared precision."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from codette_lab.analysis import measure, measure_masking
from codette_lab.analysis.fixed_order import ContiguousBands
from codette_lab.analysis.outputs import BAND_NAME_METRICS, METRIC_NAMES, PER_BAND_METRICS
from codette_lab.analysis.precision import METRIC_DECIMALS, reported
from codette_lab.daw import Session

PROTOCOL_DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"


def test_band_sums_equal_the_membership_products() -> None:
    rng = np.random.default_rng(3)
    power = rng.random((50, 40)).astype(np.float32)
    membership = np.zeros((40, 5), dtype=bool)
    membership[2:7, 0] = True  # bins before the first band are left out
    membership[7:15, 1] = True  # adjacent to the one before
    membership[20:31, 3] = True  # a gap before it, band 2 empty
    membership[31:, 4] = True  # runs to the last bin
    bands = ContiguousBands(membership)
    expected = power.astype(np.float64) @ membership.astype(np.float64)
    assert np.allclose(bands.sums(power), expected, rtol=1e-6)
    assert np.allclose(bands.sums(power[0]), expected[0], rtol=1e-6)
    assert not bands.sums(power)[:, 2].any()


def test_band_sums_refuse_bands_that_are_not_runs_in_order() -> None:
    gapped = np.zeros((10, 1), dtype=bool)
    gapped[[1, 2, 5], 0] = True
    with pytest.raises(ValueError, match="adjacent"):
        ContiguousBands(gapped)
    overlapping = np.zeros((10, 2), dtype=bool)
    overlapping[0:5, 0] = overlapping[4:8, 1] = True
    with pytest.raises(ValueError, match="overlap"):
        ContiguousBands(overlapping)


def test_every_metric_declares_its_precision_and_the_protocol_doc_lists_it() -> None:
    every = set(METRIC_NAMES) | set(PER_BAND_METRICS) | set(BAND_NAME_METRICS)
    assert set(METRIC_DECIMALS) == every
    section = PROTOCOL_DOC.read_text(encoding="utf-8").split("<!-- metric-precision: begin -->")[1]
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|$", section.split("<!-- metric-precision: end -->")[0], re.M)
    documented = {name: step.strip() for name, step in rows}
    assert set(documented) == every
    for name, decimals in METRIC_DECIMALS.items():
        step = documented[name]
        if decimals is None:
            assert step == "as measured", name
        else:
            assert step.split()[0] == f"{10.0**-decimals:.{decimals}f}", name


def test_reported_rounds_numbers_and_leaves_counts_flags_names_and_other_metrics() -> None:
    metrics = {
        "spectral_centroid_hz": 1038.228621544335,
        "integrated_lufs": -0.0012,
        "band_energy_db": {"bass": -3.14159, "air": None},
        "clipped_samples": 3,
        "noise_only": False,
        "masked_band": "low_mids",
        "my_own_metric": 0.123456789,
    }
    assert reported(metrics) == {
        "spectral_centroid_hz": 1038.2,
        "integrated_lufs": 0.0,
        "band_energy_db": {"bass": -3.14, "air": None},
        "clipped_samples": 3,
        "noise_only": False,
        "masked_band": "low_mids",
        "my_own_metric": 0.123456789,
    }
    assert str(reported({"integrated_lufs": -0.0012})["integrated_lufs"]) == "0.0"  # never "-0.0"


def _demo_measurements() -> dict[str, object]:
    tracks = {track.track_name: track.audio() for track in Session.load().tracks}
    (vocal, sr), (keys, _) = tracks["Lead Vocal"], tracks["Keys"]
    found: dict[str, object] = {name: measure(y, sr=rate) for name, (y, rate) in tracks.items()}
    found["masking"] = measure_masking(vocal, keys, sr=sr)
    return found


def test_the_demo_stems_measure_the_same_with_one_and_two_blas_threads() -> None:
    """Before the fixed-order sums, spectral centroids, build-ups, top ends and masking differed here."""
    with threadpool_limits(limits=1, user_api="blas"):
        one = _demo_measurements()
    with threadpool_limits(limits=2, user_api="blas"):
        two = _demo_measurements()
    assert repr(one) == repr(two)
