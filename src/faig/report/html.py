"""The report as one self-contained HTML file: figures inline as base64, so it opens offline."""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

from faig.files import write_text
from faig.report.blocks import Block, Cell, Figure, Heading, Paragraph, Table, Verdict

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.3em; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; } figcaption { font-size: 0.9em; color: #555; }
code { background: #f3f3f3; padding: 0 0.2em; }
td.holds { background: #dff3e0; color: #1b5e20; font-weight: 600; }
td.fails { background: #fde0dc; color: #b71c1c; font-weight: 700; }
"""


def _inline(text: str) -> str:
    """Escaped text with `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _image(folder: Path, figure: Figure) -> str:
    data = base64.b64encode((folder / figure.path).read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(figure.caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_inline(figure.caption)}</figcaption></figure>")


def _cell(cell: Cell) -> str:
    """A table cell; a verdict is coloured (green: holds, red: NO)."""
    if isinstance(cell, Verdict):
        return f'<td class="{"holds" if cell.holds else "fails"}">{cell.text}</td>'
    return f"<td>{_inline(cell)}</td>"


def _table(table: Table) -> str:
    caption = f"<caption>{_inline(table.caption)}</caption>" if table.caption else ""
    head = "".join(f"<th>{_inline(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in table.rows)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(blocks: list[Block], title: str, folder: str | os.PathLike) -> str:
    """The HTML text; figure paths are read relative to ``folder``."""
    folder = Path(folder)
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"<h{block.level}>{_inline(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Table):
            parts.append(_table(block))
        else:
            parts.append(_image(folder, block))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n" + "\n".join(parts)
            + "\n</body></html>\n")


def write_html(blocks: list[Block], title: str, path: str | os.PathLike) -> Path:
    """Write the report's HTML beside its figures, atomically."""
    path = Path(path)
    write_text(path, render_html(blocks, title, path.parent))
    return path
