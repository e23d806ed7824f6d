"""The files that install the app agree with each other."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_requirements_txt_matches_pyproject_dependencies():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    listed = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(listed) == sorted(declared)


def test_secrets_are_ignored_and_an_example_is_committed():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".streamlit/secrets.toml" in ignored
    assert ".env" in ignored
    assert (ROOT / ".streamlit" / "secrets.toml.example").is_file()
