"""*Listen* in the Analysis tab: the track as it is, and with a suggestion applied, so a class hears it.

A rumble finding gives "with the high-pass" (a 4th-order Butterworth
high-pass at the frequency the rules ask for); a located build-up (mud,
harshness, sibilance: see :func:`~.figures.located_findings`) gives "with the
cut" (a peaking cut at that frequency, as deep as the rules' ``*_cut_db`` for
the track type, else :data:`DEFAULT_CUT_DB`). Each version is the first
:data:`LISTEN_SECONDS` seconds as a 16-bit WAV for an ``ipywidgets.Audio``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ..errors import RulesError
from .figures import highpass_hz, located_findings

if TYPE_CHECKING:
    import numpy as np

    from ..analysis_types import AnalysisResult
    from ..rules import RuleSnapshot

#: How much of the track is played (seconds).
LISTEN_SECONDS = 20.0

#: Depth of a cut (dB) when the rules have no ``*_cut_db`` for that finding.
DEFAULT_CUT_DB = 4.0

#: Width (Q) of the peaking cut.
CUT_Q = 1.4


@dataclass(frozen=True)
class Version:
    """One way to hear the track: a label and the filter that makes it (None: as it is)."""

    label: str
    apply: Callable[[np.ndarray, int], np.ndarray] | None = None


def _highpass(cutoff: float) -> Callable[[np.ndarray, int], np.ndarray]:
    def apply(y: np.ndarray, sr: int) -> np.ndarray:
        from scipy.signal import butter, sosfilt

        return sosfilt(butter(4, cutoff, "highpass", fs=sr, output="sos"), y, axis=-1)

    return apply


def _cut(centre: float, depth_db: float) -> Callable[[np.ndarray, int], np.ndarray]:
    def apply(y: np.ndarray, sr: int) -> np.ndarray:
        from scipy.signal import iirpeak, lfilter

        b, a = iirpeak(centre, CUT_Q, fs=sr)  # unity gain at the centre: y - (1 - g) * band is a cut of g there
        return y - (1 - 10 ** (-depth_db / 20)) * lfilter(b, a, y, axis=-1)

    return apply


def _cut_depth(name: str, analysis: AnalysisResult, rules: RuleSnapshot) -> float:
    try:
        return float(rules[rules.resolve(f"type.{name.replace(' ', '_')}_cut_db", analysis.track_type)])
    except (RulesError, KeyError):  # no such parameter for this finding or track type
        return DEFAULT_CUT_DB


def versions(analysis: AnalysisResult, rules: RuleSnapshot, sr: int) -> list[Version]:
    """The track as it is, then one version per suggestion that a filter can apply."""
    found = [Version("as it is")]
    cutoff = highpass_hz(analysis, rules)
    if cutoff is not None:
        found.append(Version(f"with the high-pass at {cutoff:g} Hz", _highpass(cutoff)))
    for name, centre in located_findings(analysis):
        if 20 < centre < sr / 2:
            depth = _cut_depth(name, analysis, rules)
            found.append(Version(f"with a {depth:g} dB cut at {centre:.0f} Hz ({name})", _cut(centre, depth)))
    return found


def wav_bytes(y: np.ndarray, sr: int, version: Version) -> bytes:
    """The first :data:`LISTEN_SECONDS` of ``y`` (channels, n) through ``version``, as 16-bit WAV bytes."""
    import numpy as np
    import soundfile

    x = np.atleast_2d(np.asarray(y, dtype=np.float64))[:, : int(LISTEN_SECONDS * sr)]
    if version.apply is not None:
        x = version.apply(x, sr)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 1.0:  # a filter may overshoot full scale: scale down rather than clip
        x = x / peak
    buffer = io.BytesIO()
    soundfile.write(buffer, x.T, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


class ListenBox(widgets.HBox):
    """A version picker and a player; :meth:`show` offers the versions of a finished analysis."""

    def __init__(self) -> None:
        self.choice = widgets.Dropdown(description="Listen", layout=widgets.Layout(width="100%", max_width="420px"))
        self.player = widgets.Audio(format="wav", autoplay=False, controls=True, loop=False)
        self._audio: tuple[np.ndarray, int] | None = None
        self.choice.observe(lambda _: self._play(), names="value")
        super().__init__([self.choice, self.player], layout=widgets.Layout(flex_flow="row wrap", display="none"))

    def show(self, samples: np.ndarray, sr: int, analysis: AnalysisResult, rules: RuleSnapshot) -> None:
        self._audio = (samples, sr)
        offered = versions(analysis, rules, sr)
        self.choice.options = [(version.label, version) for version in offered]
        self.choice.value = offered[0]
        self.layout.display = ""
        self._play()

    def clear(self) -> None:
        self._audio = None
        self.layout.display = "none"

    def _play(self) -> None:
        version = self.choice.value
        if self._audio is not None and version is not None:
            self.player.value = wav_bytes(*self._audio, version)
