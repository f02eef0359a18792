"""pyproject.toml declares exactly what the package imports, and the test extra what the tests add."""

import ast
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
# Distributions whose import name is not their name with "-" spelled "_".
IMPORT_NAMES = {"scikit-image": "skimage", "pyyaml": "yaml", "opencv-python": "cv2",
                "opencv-python-headless": "cv2", "pillow": "PIL"}


def import_name(requirement: str) -> str:
    """The top-level module a requirement such as ``scikit-image>=0.22`` provides."""
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group(0).lower().replace("_", "-")
    return IMPORT_NAMES.get(name, name.replace("-", "_"))


def third_party_imports(folder: Path) -> set[str]:
    """Top-level names of every absolute import in the folder's Python files (in functions too),
    without the standard library, faig itself and the folder's own modules."""
    files = list(folder.rglob("*.py"))
    local = {path.stem for path in files} | {"faig"}
    names = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - local


def declared(group: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {import_name(requirement) for requirement in requirements}


def test_every_dependency_is_imported_and_every_import_declared():
    imported = third_party_imports(ROOT / "src" / "faig")
    assert imported - declared() == set(), "imported by faig but not in pyproject's dependencies"
    assert declared() - imported == set(), "in pyproject's dependencies but never imported by faig"


def test_the_test_extra_covers_what_the_tests_import():
    missing = third_party_imports(ROOT / "tests") - declared() - declared("test")
    assert missing == set(), "imported by the tests but in neither dependencies nor the test extra"


def test_import_names():
    assert [import_name(r) for r in ("scikit-image>=0.22", "PyYAML", "opencv-python-headless>=4.8", "torch")] == [
        "skimage", "yaml", "cv2", "torch"]
