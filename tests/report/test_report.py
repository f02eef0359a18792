import base64
import json
import re
from pathlib import Path

import pytest
import torch

from faig.names import METHODS
from faig.report import figures
from faig.report.blocks import Figure, Heading, Paragraph, Table, Verdict
from faig.report.build import image_rows
from faig.report.content import (findings_table, gain_table, models_table, prediction_table, report_blocks, table2,
                                 table3)
from faig.report.html import render_html, write_html
from faig.report.markdown import render_markdown, write_markdown
from faig.results import ArchResults, Results

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


# The report's tables from a small hand-made Results: every other value is a filler, the values the
# tests look for are set apart, and each expected cell is written out by hand as the table prints it.
DEGRADATIONS = ("blur", "noise")
FILLER = {"mean": 0.5, "std": 0.1}


def arch_results(arch: str) -> ArchResults:
    masking = {m: {d: {p: {f"{o}_input": dict(FILLER) for o in DEGRADATIONS} for p in ("1", "5", "100")}
                   for d in DEGRADATIONS} for m in METHODS}
    masking["faig"]["blur"]["1"]["blur_input"] = {"mean": 6.678, "std": 0.634}
    masking["random"]["noise"]["5"]["noise_input"] = {"mean": 0.194, "std": 0.0512}
    masking["ig"]["blur"]["1"]["noise_input"] = {"mean": 1.234, "std": 0.567}
    retrain = {m: {d: {t: {"mean": 27.0, "std": 0.1} for t in DEGRADATIONS} for d in DEGRADATIONS} for m in METHODS}
    retrain["faig"]["blur"]["blur"] = {"mean": 27.8891, "std": 0.2071}
    retrain["random"]["noise"]["noise"] = {"mean": 25.2043, "std": 0.0162}
    retrain["upper_bound"] = {"blur": {"psnr": 29.2034, "std": 0.0214}, "noise": {"psnr": 26.7118, "std": 0.0081}}
    retrain["gain_over_random"] = {m: {d: {t: {"mean": 0.1, "std": 0.01} for t in DEGRADATIONS}
                                       for d in DEGRADATIONS} for m in METHODS if m != "random"}
    retrain["gain_over_random"]["faig"]["noise"]["blur"] = {"mean": 0.5123, "std": 0.0456}
    first = arch == "srresnet"
    models = {stage: {"clean": {"psnr": psnr + (0 if first else 1.0), "std": 0.0}, "blur": {"psnr": 24.0, "std": 0.0}}
              for stage, psnr in (("baseline", 30.004), ("target", 29.514), ("bicubic", 28.333))}

    def prediction(threshold: float, accuracy: float) -> dict:
        return {d: {"threshold": threshold, "accuracy": accuracy, "n": 16, "calibrate_accuracy": 1.0,
                    "accuracy_by_variant": {"clean": 0.9, "blur": 0.8}} for d in DEGRADATIONS}

    confusion = {"clean": {"clean": 3, "blur": 1}, "blur": {"clean": 0, "blur": 4}}
    return ArchResults(
        models=models, masking=masking, retrain=retrain,
        distribution={d: {"conv1": 0.25, "conv2": 0.75} for d in DEGRADATIONS},
        prediction=prediction(0.4567, 0.938 if first else 0.5), prediction_reference_free=prediction(0.3219, 0.813),
        prediction_confusion=confusion, prediction_reference_free_confusion=confusion,
        ablation={v: {f"{d}_input": dict(FILLER) for d in DEGRADATIONS}
                  for v in ("with_elimination", "without_elimination")},
        modulation={d: [{"lambda": 0.0, "psnr": 20.0, "gradient_energy": 0.1},
                        {"lambda": 1.0, "psnr": 24.0, "gradient_energy": 0.2}] for d in DEGRADATIONS},
        masking_official={"faig": {"blur": {"1": {"blur_input": {"mean": 9.876, "std": 1.111}}}}})


@pytest.fixture
def results() -> Results:
    config = {"quick": True, "preset": "embedded", "archs": ["srresnet", "srcnn_style"],
              "models_trained_here": {"srresnet": False, "srcnn_style": False}, "command": "faig reproduce --quick",
              "seeds": 1, "retrain_seeds": 1, "prediction_seeds": 1, "quadrature": "gauss", "steps": 8,
              "prediction_steps": 4, "discover_images": 4, "table_percents": [0.5, 1, 5],
              "degradations": list(DEGRADATIONS),
              "retrain": {"steps": 10, "batch_size": 2, "gt_size": 32, "lr": 1e-4}}
    finding = {"arch": "srresnet", "claim": "beats bicubic", "section": "Sec. 4.1", "measured": "1 vs 2",
               "holds": True, "key": "models/baseline", "spread": "none"}
    spread = {"masking": "images", "ablation": "images", "retrain": "images", "models": "seeds"}
    return Results({arch: arch_results(arch) for arch in config["archs"]}, [finding], spread, config,
                   {"models": 1.26}, {"models": 2.5})


def test_table2_cells_are_the_masking_drops_and_the_paper_rows(results):
    table = table2(results, "srresnet")
    # 0.5% is asked for but not measured: only 1% and 5% columns.
    assert table.headers == ["input", "FAIG 1%", "IG 1%", "|θ − θ̄| 1%", "Random 1%",
                             "FAIG 5%", "IG 5%", "|θ − θ̄| 5%", "Random 5%"]
    rows = {row[0]: row[1:] for row in table.rows}
    assert list(rows) == ["Blurry input (ours, luma)", "Blurry input (ours, official metric)", "Blurry input (paper)",
                          "Noisy input (ours, luma)", "Noisy input (paper)"]
    assert rows["Blurry input (ours, luma)"][0] == "6.68 ± 0.63"
    assert rows["Noisy input (ours, luma)"][7] == "0.19 ± 0.05"
    assert rows["Noisy input (ours, luma)"][0] == "0.50 ± 0.10"
    assert rows["Blurry input (ours, official metric)"] == ["9.88 ± 1.11"] + ["–"] * 7
    assert rows["Blurry input (paper)"][0] == "6.68 ± 0.63" and rows["Noisy input (paper)"][4] == "16.28 ± 3.84"
    # Another architecture has no paper rows.
    assert [row[0] for row in table2(results, "srcnn_style").rows if "paper" in row[0]] == []


def test_table3_and_gain_table_cells_are_the_retraining_psnrs(results):
    table = table3(results, "srresnet")
    assert table.headers[:3] == ["task", "upper bound", "FAIG, deblurring filters"]
    assert table.headers[-1] == "Random, denoising filters"
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["Blurry (deblurring task) (ours)"][:2] == ["29.203 ± 0.021", "27.889 ± 0.207"]
    assert rows["Noisy (denoising task) (ours)"][0] == "26.712 ± 0.008"
    assert rows["Noisy (denoising task) (ours)"][-1] == "25.204 ± 0.016"
    assert rows["Blurry (deblurring task) (paper)"][0] == "29.203 ± 0.021"
    gains = gain_table(results, "srresnet")
    assert gains.headers == ["task", "FAIG, deblurring filters", "IG, deblurring filters",
                             "|θ − θ̄|, deblurring filters", "FAIG, denoising filters", "IG, denoising filters",
                             "|θ − θ̄|, denoising filters"]
    assert gains.rows[0] == ["Blurry (deblurring task)", "0.100 ± 0.010", "0.100 ± 0.010", "0.100 ± 0.010",
                             "0.512 ± 0.046", "0.100 ± 0.010", "0.100 ± 0.010"]
    assert "(± over the images (one seed))" in gains.caption


def test_prediction_and_models_tables_print_thresholds_accuracies_and_psnrs(results):
    rows = prediction_table(results).rows
    assert rows[0] == ["srresnet", "blur", "0.457", "93.8%", "16", "0.322", "81.3%", "0.5 / 96%"]
    assert rows[1][-1] == "0.6 / 98%"
    assert rows[2][:4] == ["srcnn_style", "blur", "0.457", "50.0%"]
    table = models_table(results)
    assert table.headers == ["model", "clean", "blur"]
    assert table.rows == [["bicubic", "28.33", "24.00"], ["srresnet baseline", "30.00", "24.00"],
                          ["srresnet target", "29.51", "24.00"], ["srcnn_style baseline", "31.00", "24.00"],
                          ["srcnn_style target", "30.51", "24.00"]]


def test_report_blocks_hold_the_tables_with_the_results_numbers(results):
    names = ("masking_curves", "masking_images", "distribution", "network", "prediction", "prediction_reference_free",
             "ablation_images", "modulation_curves", "modulation_images")
    paths = {arch: {name: Path("figures") / f"{arch}_{name}.png" for name in names} for arch in results.archs}
    densities = {arch: {d: {"conv1": 0.0125, "conv2": 0.0375} for d in DEGRADATIONS} for arch in results.archs}
    blocks = report_blocks(results, paths, densities)
    assert blocks[0] == Heading("1 of 1 findings hold (srresnet: 1 of 1, srcnn_style: 0 of 0)")
    tables = {block.caption.split(":")[0]: block for block in blocks if isinstance(block, Table)}
    assert tables["Table 2, srresnet"].rows[0][1] == "6.68 ± 0.63"
    assert tables["Table 3, srresnet"].rows[0][1:3] == ["29.203 ± 0.021", "27.889 ± 0.207"]
    cross = next(b for b in blocks if isinstance(b, Table) and b.caption.startswith("srresnet: each filter set"))
    assert cross.headers == ["masked 1%", "Blurry input", "Noisy input"]
    assert cross.rows[2] == ["IG, deblurring filters", "0.50 ± 0.10", "1.23 ± 0.57"]
    shares = next(b for b in blocks if isinstance(b, Table) and b.caption.startswith("srcnn_style: share"))
    assert shares.rows == [["conv1", "25.0% (1.25%)", "25.0% (1.25%)"], ["conv2", "75.0% (3.75%)", "75.0% (3.75%)"]]
    confusion = next(b for b in blocks if isinstance(b, Table) and b.caption == "srresnet: confusion (standard)")
    assert confusion.rows == [["clean", "3", "1"], ["blur", "0", "4"]]
    assert tables["Time per step (compute time of the cached result, summed over architectures and seeds)"].rows \
        == [["models", "1.3"]]
    figure_paths = {block.path for block in blocks if isinstance(block, Figure)}
    assert figure_paths == {path for arch in paths.values() for path in arch.values()}


@pytest.mark.parametrize("folder", ["embedded-default", "embedded-quick"])
def test_the_committed_results_make_the_findings_table(folder):
    """results.json files committed with the repository stay readable by the report: every finding
    row names its section of the paper."""
    path = Path(__file__).parents[2] / "results" / folder / "results.json"
    data = json.loads(path.read_text())
    rows = findings_table(Results.from_json(data)).rows
    assert data["config"]["archs"] == ["srresnet", "srcnn_style", "swinir"]  # every embedded network
    assert len(rows) == 11 * 3 and all(row[2].startswith("Sec. ") for row in rows)  # 11 findings each


def test_a_finding_written_before_sections_gets_an_empty_one(results):
    data = results.to_json()
    del data["findings"][0]["section"]
    assert Results.from_json(data).findings[0]["section"] == ""
