"""What a replay found, per request: a pandas DataFrame for a notebook, a table or JSON for a shell."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..extras import missing, require

if TYPE_CHECKING:
    import pandas as pd

#: An outcome's ``status``.
SAME, CHANGED, NOT_REPLAYED = "same", "changed", "not replayed"
STATUSES = (SAME, CHANGED, NOT_REPLAYED)


@dataclass(frozen=True)
class Outcome:
    """One request answered again: whether the answer moved, and how.

    ``status`` is one of :data:`STATUSES`; ``reason`` says what changed, or
    why the request could not be answered again. Findings are rule ids (an
    ``analysis_response``'s ``problems_detected``), suggestions its
    ``mixing_suggestions`` texts; scores are None where there is none.
    ``session`` and ``name`` say which connection sent it (``ws-3``, and the
    name its client gave, if any).
    """

    index: int
    session: str
    name: str | None
    message_type: str
    label: str
    status: str
    reason: str = ""
    findings_added: tuple[str, ...] = ()
    findings_removed: tuple[str, ...] = ()
    suggestions_added: tuple[str, ...] = ()
    suggestions_removed: tuple[str, ...] = ()
    score_before: float | None = None
    score_after: float | None = None

    @property
    def score_change(self) -> float | None:
        if self.score_before is None or self.score_after is None:
            return None
        return round(self.score_after - self.score_before, 6)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "score_change": self.score_change}


@dataclass(frozen=True)
class ReplayReport:
    """Every replayed request's :class:`Outcome`, the rules on each side, and how many were not replayed.

    ``rules`` and ``against`` name the two sides (identity and source, or
    "the recorded replies"); ``skipped`` counts requests of types that are
    not replayed (``ping``, ``status``) by type.
    """

    outcomes: list[Outcome]
    rules: str
    against: str
    skipped: dict[str, int]

    @property
    def differs(self) -> bool:
        """True when at least one answer changed (what a CI check fails on)."""
        return any(outcome.status == CHANGED for outcome in self.outcomes)

    def counts(self) -> dict[str, int]:
        """How many requests are ``same``, ``changed`` and ``not replayed``."""
        return {status: sum(outcome.status == status for outcome in self.outcomes) for status in STATUSES}

    def changed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == CHANGED]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "against": self.against,
            "differs": self.differs,
            "counts": self.counts(),
            "skipped": self.skipped,
            "requests": [outcome.to_dict() for outcome in self.outcomes],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_frame(self) -> pd.DataFrame:
        """One row per replayed request, indexed by its number in the recording; ``attrs`` hold the rest."""
        require("lab", "a replay table (ReplayReport.to_frame())", ("pandas",))
        import pandas as pd

        rows = [outcome.to_dict() for outcome in self.outcomes]
        columns = [*Outcome.__dataclass_fields__, "score_change"]
        frame = pd.DataFrame(rows, columns=columns).set_index("index")
        frame.attrs.update(rules=self.rules, against=self.against, differs=self.differs, skipped=self.skipped)
        return frame

    def summary(self) -> str:
        counts = self.counts()
        text = ", ".join(f"{count} {status}" for status, count in counts.items())
        skipped = sum(self.skipped.values())
        return f"{text}" + (f" ({skipped} ping/status requests not replayed)" if skipped else "")

    def table(self) -> str:
        """The requests whose answer changed or that could not be replayed, one per line, then the counts."""
        lines = [f"Rules {self.rules} against {self.against}:"]
        shown = [outcome for outcome in self.outcomes if outcome.status != SAME]
        if shown:
            lines.append(f"{'#':>5}  {'client':<12} {'request':<32} {'status':<12} what moved")
        lines.extend(
            f"{outcome.index:>5}  {(outcome.name or outcome.session)[:12]:<12} {outcome.label[:32]:<32} "
            f"{outcome.status:<12} {_moves(outcome)}"
            for outcome in shown
        )
        lines.append(f"{len(self.outcomes)} requests replayed: {self.summary()}.")
        return "\n".join(lines)

    def _repr_html_(self) -> str | None:  # a notebook shows the table of every request (plain text without pandas)
        if missing(("pandas",)):
            return None
        return str(self.to_frame()._repr_html_())

    def __repr__(self) -> str:
        return self.table()


def _moves(outcome: Outcome) -> str:
    """``+rule -rule, suggestions +1 -1, score 0.75 -> 0.70`` (or the reason it was not replayed)."""
    if outcome.status == NOT_REPLAYED:
        return outcome.reason
    parts = [" ".join([*(f"+{rule}" for rule in outcome.findings_added), *(f"-{r}" for r in outcome.findings_removed)])]
    if outcome.suggestions_added or outcome.suggestions_removed:
        parts.append(f"suggestions +{len(outcome.suggestions_added)} -{len(outcome.suggestions_removed)}")
    if outcome.score_change:
        parts.append(f"score {outcome.score_before:.2f} -> {outcome.score_after:.2f}")
    shown = ", ".join(part for part in parts if part)
    return shown or outcome.reason
