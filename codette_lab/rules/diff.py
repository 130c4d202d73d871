"""What changed between two rule sets, parameter by parameter, as rows a notebook or a terminal shows.

``RuleSet.diff()`` compares against the built-in defaults, ``RuleSet.diff(other)``
against another rule set or a rule file: the answer to "which tuning is in
force here?" without reading two JSON files side by side.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from .snapshot import RuleSnapshot

#: Shown for a value a side does not have (a parameter only one of the rule sets declares).
_ABSENT = "-"


@dataclass(frozen=True)
class ParameterChange:
    """One parameter whose value differs: ``before`` (the reference) and ``after`` (this rule set).

    A side is None when that rule set does not declare the parameter.
    """

    name: str
    before: float | None
    after: float | None
    unit: str
    description: str

    def cells(self) -> tuple[str, str, str, str, str]:
        """The row as text: name, before, after, unit, description."""
        return (self.name, _number(self.before), _number(self.after), self.unit, self.description)


class RulesDiff(list[ParameterChange]):
    """The changed parameters (a list of :class:`ParameterChange`), printable as a table.

    Empty when nothing differs, so ``assert not rules.diff(path)`` checks that a file holds this tuning.
    """

    COLUMNS = ("parameter", "before", "after", "unit", "description")

    def __init__(self, rows: Iterable[ParameterChange], *, before: str, elsewhere: Iterable[str] = ()) -> None:
        super().__init__(rows)
        #: Where the reference came from (a file path, or the built-in file).
        self.before = before
        #: What differs outside the parameters (``rules: left_heavy``, ``texts``): a rule file is more than its
        #: numbers, and a diff that listed only those could hide an edited rule.
        self.elsewhere = tuple(elsewhere)

    def _title(self) -> str:
        count = len(self)
        title = (
            f"{count} parameter{'s differ' if count != 1 else ' differs'} from {self.before}"
            if count
            else f"No parameter differs from {self.before}"
        )
        if self.elsewhere:
            title += f"; outside the parameters these differ too: {'; '.join(self.elsewhere)}"
        return title + (":" if count else ".")

    def __str__(self) -> str:
        rows = [self.COLUMNS, *(change.cells() for change in self)]
        widths = [max(len(row[column]) for row in rows) for column in range(len(self.COLUMNS) - 1)]
        lines = [self._title()]
        if self:
            for row in rows:
                cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
                lines.append("  ".join([*cells, row[-1]]).rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The table a notebook shows."""
        title = f"<p>{html.escape(self._title())}</p>"
        if not self:
            return title
        head = "".join(f"<th>{html.escape(column)}</th>" for column in self.COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in change.cells()) + "</tr>" for change in self
        )
        return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        return f"<RulesDiff {self._title()} {list.__repr__(self)}>"


def compare(before: RuleSnapshot, after: RuleSnapshot) -> RulesDiff:
    """Every parameter whose value differs from ``before`` to ``after`` (``after``'s order, then ``before``-only)."""
    old, new = before.document.parameters, after.document.parameters
    rows = []
    for name in [*new, *(name for name in old if name not in new)]:
        value_before, value_after = before.values.get(name), after.values.get(name)
        if value_before == value_after:
            continue
        spec = new.get(name) or old[name]
        rows.append(ParameterChange(name, value_before, value_after, spec.unit, spec.description))
    return RulesDiff(rows, before=before.document.source, elsewhere=_elsewhere(before, after))


def _elsewhere(before: RuleSnapshot, after: RuleSnapshot) -> list[str]:
    """The sections (and, for ``rules``, the rule ids) that differ outside the parameters."""
    old, new = before.document.raw, after.document.raw
    found = []
    for section in [*new, *(section for section in old if section not in new)]:
        if old.get(section) == new.get(section):
            continue
        if section == "rules":
            old_rules = {rule.id: rule for rule in before.document.rules}
            new_rules = {rule.id: rule for rule in after.document.rules}
            ids = [
                rule_id for rule_id in {**new_rules, **old_rules} if old_rules.get(rule_id) != new_rules.get(rule_id)
            ]
            found.append(f"rules: {', '.join(ids)}" if ids else "rules (their order)")
        else:
            found.append(section)
    return found


def _number(value: float | None) -> str:
    return _ABSENT if value is None else f"{value:g}"
