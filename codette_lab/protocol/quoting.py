"""Client-supplied text made safe to show: clipped to a length and with its control characters escaped.

A client can put anything in a string: a newline that forges a whole log line,
terminal escape sequences that reach the teacher's terminal raw, bidirectional
overrides that reorder what is read, lone surrogates that cannot even be
encoded, or sixteen megabytes that every error reply would echo back. Every
error text and log line that repeats such text passes it through
:func:`quote_client_text` (the parts the client wrote) or :func:`printable`
(a whole text, as a last guard). Pure, no I/O.
"""

from __future__ import annotations

#: Characters of client text shown in an error reply or a log line; the rest is counted, not shown.
CLIENT_TEXT_LIMIT = 80
#: Length of a whole error text sent or logged (it holds client text already clipped to the limit above).
ERROR_TEXT_LIMIT = 2000

_CONTROL_NAMES = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_ESCAPED_RANGES = (
    range(0x00, 0x20),  # C0 controls: newlines, ESC (terminal sequences), NUL
    range(0x7F, 0xA0),  # DEL and the C1 controls (CSI is 0x9b)
    range(0x2028, 0x202F),  # line/paragraph separators, bidi embeddings and overrides
    range(0x2066, 0x206A),  # bidi isolates
    range(0xD800, 0xE000),  # lone surrogates (a valid pair is one character by now)
)
#: ``str.translate`` table: each unsafe code point to a visible escape (``\n``, ``\x1b``, ``\u202e``).
_ESCAPES = {
    code: _CONTROL_NAMES.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for block in _ESCAPED_RANGES
    for code in block
}


def printable(text: str, limit: int = ERROR_TEXT_LIMIT) -> str:
    """``text`` with unsafe characters escaped, cut to ``limit`` characters (saying how long it was)."""
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text)} characters in all)"
    return text.translate(_ESCAPES)


def quote_client_text(value: str, limit: int = CLIENT_TEXT_LIMIT) -> str:
    """Client text as error texts and logs show it: escaped and clipped to ``limit`` characters."""
    return printable(value, limit)
