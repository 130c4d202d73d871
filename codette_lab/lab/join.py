"""The join URL as something to hand out: printed, and as a QR code a phone or laptop camera opens.

``lab.join_code()`` returns a :class:`JoinCode`; shown as a cell's value it
draws the QR code (SVG, made by `segno <https://segno.readthedocs.io>`_) with
the address written under it, so a teacher can put it on the projector.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

#: How many pixels one QR module takes on screen (a projector needs them big).
MODULE_PIXELS = 6


@dataclass(frozen=True)
class JoinCode:
    """A join URL and its QR code; a notebook shows both."""

    url: str

    def svg(self, scale: int = MODULE_PIXELS) -> str:
        """The QR code as an inline SVG element (error correction M: readable off a projector)."""
        import segno

        return segno.make(self.url, error="m").svg_inline(scale=scale, dark="#000", light="#fff")

    def _repr_html_(self) -> str:
        return (
            "<div class='codette-join-code' style='display:inline-block;text-align:center'>"
            f"{self.svg()}<div style='font-family:monospace;overflow-wrap:anywhere'>{html.escape(self.url)}</div></div>"
        )

    def __str__(self) -> str:
        return self.url
