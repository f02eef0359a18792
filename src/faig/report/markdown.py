"""The report as Markdown, its figures referenced as PNG files beside it."""

from __future__ import annotations

import os
from pathlib import Path

from faig.files import write_text
from faig.report.blocks import Block, Cell, Figure, Heading, Paragraph, Table, Verdict


def _cell(cell: Cell) -> str:
    """A table cell, its pipes escaped; a failing verdict in bold (``**NO**``)."""
    if isinstance(cell, Verdict):
        return cell.text if cell.holds else f"**{cell.text}**"
    return cell.replace("|", "\\|")


def _table(table: Table) -> str:
    lines = [f"**{table.caption}**", ""] if table.caption else []
    lines.append("| " + " | ".join(_cell(h) for h in table.headers) + " |")
    lines.append("|" + "|".join([" --- "] * len(table.headers)) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def render_markdown(blocks: list[Block], title: str) -> str:
    """The report as Markdown: ``title`` as its heading, then each block (figures as image links)."""
    parts = [f"# {title}"]
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Table):
            parts.append(_table(block))
        elif isinstance(block, Figure):
            parts.append(f"![{block.caption}]({block.path.as_posix()})\n\n*{block.caption}*")
    return "\n\n".join(parts) + "\n"


def write_markdown(blocks: list[Block], title: str, path: str | os.PathLike) -> Path:
    """Write :func:`render_markdown`'s text to ``path`` atomically; returns the path."""
    path = Path(path)
    write_text(path, render_markdown(blocks, title))
    return path
