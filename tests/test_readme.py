"""The README's Python examples run as printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_tensor_api_example_runs():
    block = next(block for block in python_blocks() if "from faig import FAIG" in block)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert len(namespace["deblurring"]) == namespace["method"].index.top_count(1.0)
    assert namespace["scores"]["blur"].shape == (2, namespace["method"].index.total)


@pytest.mark.parametrize("needle", ["faig export", "faig branches", "--checkpoint-minutes", "--variants"])
def test_new_commands_are_documented(needle):
    assert needle in README.read_text()


def test_the_own_network_example_writes_two_stages_of_one_swinir(tmp_path, monkeypatch):
    from faig.training.config import load_config

    block = next(block for block in python_blocks() if "swinir_baseline.config.json" in block)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    baseline, target = (load_config(tmp_path / f"swinir_{stage}.config.json") for stage in ("baseline", "target"))
    assert baseline.arch == target.arch and baseline.arch.arch == "swinir"
    assert (baseline.stage, target.stage) == ("baseline", "target")
    assert target.degradations.blur_prob == target.degradations.noise_prob == 0.5
    assert baseline.degradations.blur_prob == baseline.degradations.noise_prob == 0
