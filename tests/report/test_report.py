import base64
import re

import torch

from faig.report import figures
from faig.report.blocks import Figure, Heading, Paragraph, Table, Verdict
from faig.report.build import image_rows
from faig.report.html import render_html, write_html
from faig.report.markdown import render_markdown, write_markdown

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def blocks_with_figure(tmp_path):
    path = figures.modulation_curves(
        {"blur": [{"lambda": 0.0, "psnr": 20.0, "gradient_energy": 0.1}, {"lambda": 1.0, "psnr": 22.0,
                                                                           "gradient_energy": 0.2}]},
        "test", tmp_path / "figures" / "curve.png")
    return [Heading("Section"), Paragraph("uses `code` & <escapes>"),
            Table(["a", "b|c"], [["1", "2"]], "caption"), Figure(path.relative_to(tmp_path), "a curve")]


def test_html_is_self_contained_and_escaped(tmp_path):
    html = render_html(blocks_with_figure(tmp_path), "Title", tmp_path)
    assert "<code>code</code> &amp; &lt;escapes&gt;" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert base64.b64decode(sources[0].split(",", 1)[1]).startswith(PNG_MAGIC)


def test_markdown_references_the_figure_files(tmp_path):
    text = render_markdown(blocks_with_figure(tmp_path), "Title")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == ["figures/curve.png"] and (tmp_path / links[0]).is_file()
    assert "| a | b\\|c |" in text


def test_writers_put_files_in_place(tmp_path):
    blocks = blocks_with_figure(tmp_path)
    assert write_html(blocks, "T", tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert write_markdown(blocks, "T", tmp_path / "report.md").read_text().startswith("# T")


def test_image_rows_order_inputs_first_and_lambdas_by_value():
    image = torch.zeros(1, 3, 4, 4)
    keys = ["modulation/blur/λ=1.5", "modulation/blur/ground truth", "modulation/blur/λ=0.5", "modulation/blur/input",
            "modulation/blur/λ=0", "masking/blur_input/target"]
    rows = image_rows({k: image for k in keys}, "modulation")
    assert list(rows) == ["blurry input"]
    assert list(rows["blurry input"]) == ["degraded input", "λ=0", "λ=0.5", "λ=1.5", "ground truth"]


def test_every_figure_writes_a_png(tmp_path):
    stat = {"mean": 1.0, "std": 0.1}
    curves = {m: {d: {p: {"blur_input": stat, "noise_input": stat} for p in ("0.5", "1", "100")}
                  for d in ("blur", "noise")} for m in ("faig", "random")}
    image = torch.rand(1, 3, 8, 8)
    paths = [
        figures.masking_curves(curves, "t", tmp_path / "a.png"),
        figures.image_grid({"row": {"input": image[..., :4, :4], "output": image}}, {"row": {"output": 31.5}}, "t",
                           tmp_path / "b.png"),
        figures.layer_distribution({"blur": {"l1": 0.5, "l2": 0.5}, "noise": {"l1": 1.0, "l2": 0.0}}, "t",
                                   tmp_path / "c.png"),
        figures.network_drawing({"blur": {"l1": torch.eye(3), "l2": torch.zeros(2, 3)}}, "t", tmp_path / "d.png"),
        figures.prediction_overlaps({"blur": {"clean": [0.1, 0.2], "blur": [0.7]}}, {"blur": 0.4}, "t",
                                    tmp_path / "e.png"),
    ]
    assert all(path.read_bytes().startswith(PNG_MAGIC) for path in paths)


def test_verdicts_are_coloured_in_html_and_bold_in_markdown(tmp_path):
    blocks = [Table(["claim", "verdict"], [["a", Verdict(True)], ["b", Verdict(False)]])]
    html = render_html(blocks, "T", tmp_path)
    assert '<td class="holds">holds</td>' in html and '<td class="fails">NO</td>' in html
    assert "td.fails { background" in html
    markdown = render_markdown(blocks, "T")
    assert "| a | holds |" in markdown and "| b | **NO** |" in markdown
