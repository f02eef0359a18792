import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert len(commands) == 2, "the README gives exactly two set-up commands"
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_lists_the_embedded_splits():
    from faig.data.splits import EMBEDDED_SPLITS

    readme = (ROOT / "README.md").read_text()
    for split, photos in EMBEDDED_SPLITS.items():
        assert f"`{split}`" in readme
        for photo, _ in photos:
            assert photo in readme
