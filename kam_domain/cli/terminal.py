"""What the ``kam`` command prints to a terminal: stored text with its control characters shown,
never obeyed.

Text in the store was written by whoever could write to it. Printed raw, an escape sequence in a
member's name could clear the auditor's screen, rewrite a line already shown or hide the rest of
a report, and a bidirectional override could show a name other than the one stored. So every
character a terminal would act on is printed as its escape (``\\x1b``, ``\\u202e``): C0 and C1
controls (Unicode category Cc) other than the line breaks and tabs that lay output out, format
characters (Cf), and lone surrogates (which cannot even be encoded).

Output to a terminal is filtered as it is written (:class:`TerminalSafe`). Output to a file or a
pipe is left as it is, so exports keep the exact stored text their hashes bind; a table cell is
escaped wherever it goes (line breaks included), so that no stored text can forge a row.
"""

from __future__ import annotations

import unicodedata
from typing import Any, TextIO

__all__ = ["TerminalSafe", "escape", "one_line"]

_ACTED_ON = frozenset({"Cc", "Cf", "Cs"})
_LAYOUT = frozenset({"\n", "\t"})


def escape(text: str, *, keep_layout: bool = True) -> str:
    """``text`` with every character a terminal acts on written as its escape; line breaks and
    tabs kept when ``keep_layout``."""
    if text.isascii() and text.isprintable():
        return text
    kept = _LAYOUT if keep_layout else frozenset()
    return "".join(
        char
        if char in kept or unicodedata.category(char) not in _ACTED_ON
        else char.encode("unicode_escape", "backslashreplace").decode("ascii")
        if unicodedata.category(char) != "Cs"
        else f"\\u{ord(char):04x}"
        for char in text
    )


def one_line(text: str) -> str:
    """``text`` escaped, line breaks and tabs included: for one-line messages and table cells."""
    return escape(text, keep_layout=False)


class TerminalSafe:
    """A text stream that escapes what it writes (see :func:`escape`); everything else passes
    through to the wrapped stream."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    @property
    def wrapped(self) -> TextIO:
        """The stream written to."""
        return self._stream

    def write(self, text: str) -> int:
        self._stream.write(escape(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
