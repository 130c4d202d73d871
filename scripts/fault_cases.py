"""The table of the fault corpus: every case, the fault injected into it and what a mixing engineer would say.

A case names its clean stem, sample rate and fault (with the fault's parameters), the rules that may report
it, and what the remedy must contain: a regex, the frequency and amount it must name (taken from the
injection), and a regex of the wrong remedy it must not give. Every stem is also a clean control at both
sample rates (its analysis must find nothing), and every fault is compared with the control of its stem.
"""

from __future__ import annotations

from dataclasses import dataclass

RATES = (44100, 48000)


@dataclass(frozen=True)
class Case:
    """One rendered track and what a mixing engineer would say about it."""

    name: str
    stem: str
    track_type: str
    sr: int
    fault: str  # "clean" for a control
    rules: tuple[str, ...] = ()  # any of these rules reports the fault
    remedy: str = ""  # regex the suggestion of that rule must match (case-insensitive)
    wrong: str = ""  # regex no suggestion may match (the wrong remedy)
    hz: float | None = None  # the frequency the remedy must name (within a factor of hz_tolerance)
    hz_tolerance: float = 1.25
    db: float | None = None  # the amount the remedy must name (within db_tolerance dB)
    db_tolerance: float = 3.0
    exact: bool = False  # no other rule may fire
    target: str | None = None
    other: str | None = None  # stem of the other track (masking), rendered at the same rate
    other_type: str = "audio"
    params: tuple[tuple[str, float], ...] = ()

    @property
    def control(self) -> str:
        return f"clean-{self.stem}-{self.sr}"

    def param(self, name: str) -> float:
        return dict(self.params)[name]


#: Stem -> track type; the masters' loudness targets; the other track of the masking controls.
STEM_TYPES = {
    "vocal": "vocal",
    "speech": "vocal",
    "drums": "drums",
    "kick": "drums",
    "bass": "bass",
    "808": "bass",
    "guitar": "guitar",
    "piano": "keys",
    "pad": "synth",
    "drumbus": "bus",
    "texture": "audio",
    "master": "master",
    "podcast": "master",
}
TARGETS = {"master": "streaming", "podcast": "podcast"}
CONTROL_OTHER = {"kick": ("808", "bass"), "vocal": ("guitar", "guitar")}


def _controls() -> list[Case]:
    return [
        Case(
            f"clean-{stem}-{sr}",
            stem,
            track_type,
            sr,
            "clean",
            target=TARGETS.get(stem),
            other=CONTROL_OTHER.get(stem, (None, "audio"))[0],
            other_type=CONTROL_OTHER.get(stem, (None, "audio"))[1],
        )
        for stem, track_type in STEM_TYPES.items()
        for sr in RATES
    ]


def _fault(stem: str, sr: int, fault: str, *, suffix: str = "", **fields: object) -> Case:
    params = tuple(sorted(fields.pop("params", {}).items()))  # type: ignore[attr-defined]
    name = f"{fault}{suffix}-{stem}-{sr}"
    return Case(name, stem, STEM_TYPES[stem], sr, fault, target=TARGETS.get(stem), params=params, **fields)  # type: ignore[arg-type]


def _eq_cases() -> list[Case]:
    cases = []
    cut = r"\bcut\b"
    for stem, sr, hz in (
        ("guitar", 44100, 250.0),
        ("piano", 48000, 250.0),
        ("vocal", 48000, 400.0),
        ("master", 44100, 250.0),
        ("pad", 44100, 300.0),
    ):
        cases.append(
            _fault(
                stem,
                sr,
                "mud",
                rules=("low_mid_buildup",),
                remedy=cut,
                hz=hz,
                hz_tolerance=1.3,
                db=10.0,
                params={"gain_db": 10.0, "hz": hz, "q": 1.4},
            )
        )
    for stem, sr in (("guitar", 48000), ("pad", 44100), ("master", 48000), ("vocal", 44100), ("texture", 48000)):
        cases.append(
            _fault(
                stem,
                sr,
                "harsh",
                rules=("harshness",),
                remedy=cut,
                hz=3200.0,
                db=10.0,
                wrong=r"de-ess",
                params={"gain_db": 10.0, "hz": 3200.0, "q": 2.0},
            )
        )
    for sr in RATES:
        cases.append(
            _fault(
                "vocal",
                sr,
                "presence_peak",
                rules=("harshness",),
                remedy=cut,
                hz=3500.0,
                db=9.0,
                hz_tolerance=1.3,
                wrong=r"de-ess",
                params={"gain_db": 9.0, "hz": 3500.0, "q": 0.9},
            )
        )
        cases.append(
            _fault(
                "vocal",
                sr,
                "sibilance",
                rules=("sibilance",),
                remedy=r"de-ess",
                hz=7000.0,
                hz_tolerance=1.3,
                params={"gain_db": 12.0, "hz": 7000.0, "q": 2.0},
            )
        )
    for stem, sr in (("vocal", 44100), ("master", 48000), ("guitar", 48000), ("speech", 44100), ("podcast", 48000)):
        cases.append(
            _fault(
                stem,
                sr,
                "dull",
                rules=("dull",),
                remedy=r"shelf|top end|low-pass",
                hz=4000.0,
                hz_tolerance=1.4,
                wrong=r"air shelf",
                params={"hz": 4000.0},
            )
        )
    for stem, sr in (("vocal", 48000), ("guitar", 44100), ("speech", 48000)):
        cases.append(_fault(stem, sr, "rumble", rules=("rumble",), remedy=r"high-pass", params={"hz": 35.0}))
    return cases


def _level_cases() -> list[Case]:
    return [
        _fault("vocal", 44100, "quiet", rules=("level_too_low",), remedy=r"raise", params={"peak_dbfs": -55.0}),
        _fault("guitar", 48000, "quiet", rules=("level_too_low",), remedy=r"raise", params={"peak_dbfs": -55.0}),
        _fault(
            "vocal",
            48000,
            "headroom",
            rules=("headroom",),
            remedy=r"lower|down",
            db=3.0,
            db_tolerance=0.3,
            params={"peak_dbfs": -3.0},
        ),
        _fault(
            "drums",
            44100,
            "clip_risk",
            rules=("clipping_risk",),
            remedy=r"turn|lower|down",
            db=5.2,
            db_tolerance=0.3,
            params={"peak_dbfs": -0.8},
        ),
        _fault(
            "piano",
            44100,
            "clip_risk",
            rules=("clipping_risk",),
            remedy=r"turn|lower|down",
            db=5.5,
            db_tolerance=0.3,
            params={"peak_dbfs": -0.5},
        ),
        _fault("vocal", 44100, "clipped", rules=("clipped",), remedy=r"re-record|declip", params={"drive_db": 16.0}),
        _fault("drums", 48000, "clipped", rules=("clipped",), remedy=r"re-record|declip", params={"drive_db": 20.0}),
        _fault(
            "drums",
            44100,
            "soft_clipped",
            rules=("clipped_below_full_scale",),
            remedy=r"drive|clipper",
            wrong=r"re-record",
            params={"drive_db": 10.0},
        ),
        _fault(
            "guitar",
            48000,
            "soft_clipped",
            rules=("clipped_below_full_scale",),
            remedy=r"drive|clipper",
            wrong=r"re-record",
            params={"drive_db": 10.0},
        ),
        _fault("vocal", 48000, "dc", rules=("dc_offset",), remedy=r"dc|high-pass", params={"offset": 0.03}),
        _fault("bass", 44100, "dc", rules=("dc_offset",), remedy=r"dc|high-pass", params={"offset": 0.03}),
        _fault(
            "master",
            44100,
            "too_loud",
            rules=("too_loud",),
            remedy=r"lower",
            db=6.0,
            db_tolerance=0.6,
            params={"lufs": -8.0},
        ),
        _fault(
            "podcast",
            44100,
            "too_quiet",
            rules=("too_quiet",),
            remedy=r"raise",
            db=8.0,
            db_tolerance=0.6,
            params={"lufs": -24.0},
        ),
        _fault("master", 48000, "true_peak", rules=("true_peak_over_ceiling",), remedy=r"ceiling"),
        _fault("drums", 48000, "squashed", rules=("squashed_transients", "over_compressed"), remedy=r"attack|compress"),
    ]


def _stereo_cases() -> list[Case]:
    cases = []
    for stem, sr in (("drumbus", 48000), ("master", 48000), ("drums", 44100)):
        cases.append(_fault(stem, sr, "polarity", rules=("phase_problem",), remedy=r"polarity", wrong=r"narrow"))
    for stem, sr in (("pad", 48000), ("master", 44100), ("drums", 48000)):
        cases.append(
            _fault(stem, sr, "over_widened", rules=("over_widened",), remedy=r"narrow|width|widen", wrong=r"polarity")
        )
    return cases


def _programme_cases() -> list[Case]:
    return [
        _fault(
            "vocal",
            44100,
            "hiss_only",
            rules=("no_programme",),
            remedy=r"input|record|routing",
            wrong=r"raise the input gain",
            exact=True,
        ),
        _fault(
            "guitar",
            48000,
            "hiss_only",
            rules=("no_programme",),
            remedy=r"input|record|routing",
            wrong=r"raise the input gain",
            exact=True,
        ),
        _fault(
            "speech",
            48000,
            "hiss_only",
            rules=("no_programme",),
            remedy=r"input|record|routing",
            wrong=r"raise the input gain",
            exact=True,
        ),
    ]


def _masking_cases() -> list[Case]:
    kicks = [
        _fault(
            "kick",
            sr,
            "kick_masked",
            rules=("buried_low",),
            remedy=r"side-?chain|duck",
            hz=50.0,
            hz_tolerance=1.5,
            wrong=r"pan them apart",
            other="808",
            other_type="bass",
        )
        for sr in RATES
    ]
    vocal = _fault(
        "vocal",
        44100,
        "vocal_buried",
        rules=("buried",),
        remedy=r"\bcut\b.*\bon guitar",
        other="guitar",
        other_type="guitar",
    )
    masker = _fault(
        "808",
        48000,
        "buries_kick",
        rules=("burying",),
        remedy=r"duck 808 .*side-chain",
        hz=50.0,
        hz_tolerance=1.5,
        wrong=r"pan them apart",
        other="kick",
        other_type="drums",
    )
    return [*kicks, vocal, masker]


CASES: tuple[Case, ...] = tuple(
    _controls() + _eq_cases() + _level_cases() + _stereo_cases() + _programme_cases() + _masking_cases()
)
