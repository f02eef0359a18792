"""The report's content as a list of blocks, rendered alike by ``html`` and ``markdown``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    """A section heading; ``level`` 2 is a top section (the title is level 1)."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str  # plain text; `code` spans allowed


@dataclass(frozen=True)
class Verdict:
    """A table cell saying whether a finding holds: coloured in HTML, ``**NO**`` in Markdown."""

    holds: bool

    @property
    def text(self) -> str:
        return "holds" if self.holds else "NO"


Cell = str | Verdict


@dataclass(frozen=True)
class Table:
    """A table: a header row, rows of cells (text or :class:`Verdict`) and an optional caption."""

    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """An image file of the report, with the caption shown under it."""

    path: Path  # relative to the report's folder
    caption: str


Block = Heading | Paragraph | Table | Figure
