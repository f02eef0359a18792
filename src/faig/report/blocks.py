"""The report's content as a list of blocks, rendered alike by ``html`` and ``markdown``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
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
    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    path: Path  # relative to the report's folder
    caption: str


Block = Heading | Paragraph | Table | Figure
