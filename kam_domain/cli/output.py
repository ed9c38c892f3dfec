"""What the ``kam`` command lays out: aligned tables and progress bars, drawn by rich.

rich measures text as a terminal shows it, so a column of Chinese names (华夏移动通信, each
character two cells wide) lines up with the Latin ones, which padding by ``len()`` cannot do. It
is imported inside these functions, never at module level, so that ``kam --help`` and the
commands that print no table start without it.

Tables are plain text wherever they go; on a terminal their header is bold unless ``NO_COLOR``
is set (https://no-color.org). Progress bars (with rate and time left) are drawn on standard
error only when it is a terminal: piped or redirected, a command prints its result and nothing
else, so that scripts read exactly what they read before.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TextIO

from kam_domain.cli.terminal import TerminalSafe, one_line
from kam_domain.errors import ValidationError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "colour_wanted",
    "output_to",
    "progress",
    "raw",
    "show",
    "table",
    "write_csv",
    "write_report",
]

#: Wide enough that no table wraps: a cell holds a whole stored value, as before.
_WIDE = 100_000

#: Progress callback: ``(done, total)``; a total of 0 means not known.
Advance = Callable[[int, int], None]


def raw(stream: IO[str]) -> IO[str]:
    """The stream under :class:`~kam_domain.cli.terminal.TerminalSafe`, for text whose stored
    parts are escaped already and whose colour codes must reach the terminal."""
    while isinstance(stream, TerminalSafe):
        stream = stream.wrapped
    return stream


def show(text: str, stream: IO[str] | None = None) -> None:
    """Print a :func:`table` (or text holding one) to ``stream`` (default standard output),
    past the terminal filter: its cells are escaped already, its colour codes are ours."""
    out = raw(sys.stdout if stream is None else stream)
    out.write(text + "\n")


def colour_wanted(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set to anything but empty."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _console(
    stream: IO[str], *, colour: bool, terminal: bool = False, width: int | None = None
) -> Console:
    from rich.console import Console

    return Console(
        file=stream,
        width=width,
        force_terminal=colour or terminal,
        no_color=not colour,
        color_system="standard" if colour else None,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Collection[str] = (),
    stream: IO[str] | None = None,
) -> str:
    """``rows`` under ``headers`` in aligned columns, a rule of dashes under the header, two
    spaces between columns, no trailing blanks. Cells are stored text: each is escaped (see
    :func:`~kam_domain.cli.terminal.one_line`) and shown as written, never read as markup, so
    that none can drive a terminal or forge a row. Columns named in ``right`` align right.
    The header is bold when ``stream`` (default standard output) is a colour terminal."""
    import io

    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    target = sys.stdout if stream is None else stream
    colour = colour_wanted(raw(target))
    cells = [[Text(one_line(cell)) for cell in row] for row in rows]
    grid = Table(
        box=None,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold" if colour else "",
        show_header=True,
        expand=False,
    )
    for header in headers:
        justify: Literal["left", "right"] = "right" if header in right else "left"
        grid.add_column(Text(header), justify=justify, no_wrap=True)
    # The rule under the header: as wide as the column's widest cell as a terminal shows it
    # (two cells for each Chinese character).
    widths = [
        max([cell_len(header), *(row[i].cell_len for row in cells)])
        for i, header in enumerate(headers)
    ]
    grid.add_row(*(Text("-" * width) for width in widths))
    for row in cells:
        grid.add_row(*row)
    out = io.StringIO()
    _console(out, colour=colour, width=_WIDE).print(grid)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


@contextmanager
def progress(
    label: str, unit: str = "events", *, stream: IO[str] | None = None
) -> Iterator[Advance]:
    """A progress bar on ``stream`` (default standard error) with rate and time left while the
    block runs; the callback takes ``(done, total)``. Off a terminal it shows nothing."""
    stream = raw(sys.stderr if stream is None else stream)
    if not stream.isatty():
        yield _ignore
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Units per second, once rich has measured it."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.0f} {unit}/s")

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        Rate(),
        TimeElapsedColumn(),
        TextColumn("elapsed"),
        TimeRemainingColumn(),
        TextColumn("left"),
        console=_console(stream, colour=colour_wanted(stream), terminal=True),
        transient=True,
    )
    task = bar.add_task(label, total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)

    with bar:
        yield advance


def _ignore(done: int, total: int) -> None:
    """No progress is shown off a terminal."""


@contextmanager
def output_to(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or the file at ``path`` (written as UTF-8; one that cannot be opened is
    refused naming the ``output`` option)."""
    if path is None:
        yield sys.stdout
        return
    try:
        handle = path.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise ValidationError("output", f"cannot write {path}: {error.strerror}") from None
    with handle:
        yield handle


def write_csv(out: TextIO, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` as CSV under a header of ``columns`` (other keys are left out)."""
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def write_report(
    path: Path | None,
    format_name: str,
    *,
    as_dict: Callable[[], Any],
    columns: Sequence[str],
    records: Callable[[], Iterable[Mapping[str, Any]]],
    html: Callable[[], str],
    table: Callable[[TextIO], str],
) -> None:
    """Write a report to ``path`` (standard output when None) in ``format_name`` (``json``,
    ``csv``, ``html``, else a table): each format is computed only when asked for."""
    try:
        with output_to(path) as out:
            if format_name == "json":
                json.dump(as_dict(), out, ensure_ascii=False, indent=2)
                out.write("\n")
            elif format_name == "csv":
                writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
                writer.writeheader()
                writer.writerows(records())
            elif format_name == "html":
                out.write(html())
            else:
                raw(out).write(table(out))
    except BrokenPipeError:
        # A reader that stops early (| head) ends the output, not in a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
