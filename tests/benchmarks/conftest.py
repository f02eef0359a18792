"""The benchmark scripts under test, loaded from benchmarks/ (not a package) as modules."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def regime() -> ModuleType:
    """benchmarks/paper_regime.py."""
    return load_script("paper_regime")


@pytest.fixture(scope="module")
def sets() -> ModuleType:
    """benchmarks/retrain_sets.py."""
    return load_script("retrain_sets")


@pytest.fixture(scope="module")
def quadrature() -> ModuleType:
    """benchmarks/quadrature_study.py."""
    return load_script("quadrature_study")


@pytest.fixture(scope="module")
def ceiling() -> ModuleType:
    """benchmarks/jpeg_ceiling.py."""
    return load_script("jpeg_ceiling")
