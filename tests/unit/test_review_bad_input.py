"""``python -m concurrent_infra.review`` on input that is not a usable preview: a message naming the
problem and what to pass instead, exit 2, never a traceback."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from concurrent_infra.review.__main__ import main

PREVIEWS = Path(__file__).parents[1] / "fixtures" / "previews"


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str
) -> tuple[int, str, str]:
    """``main()`` with ``text`` on stdin: exit status, stdout, stderr."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    status = main([])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the input is empty; pass the output of `pulumi preview --json`"),
        ("   \n", "the input is empty"),
        ("Previewing update (dev):\n  + 7 to create\n", "the input is not JSON (line 1"),
        ('{"a": 1}', "the input is JSON but not a Pulumi preview (no 'steps')"),
        ("[1, 2]", "the input is JSON but not a Pulumi preview"),
        ('{"steps": []}', "the preview has no steps, not even the stack's"),
        ('{"steps": [], "diagnostics": [{"severity": "error", "message": "boom"}]}', "Its errors: boom"),
        ('{"steps": "x"}', "'steps' is not a list"),
        ('{"steps": [1]}', "a step is not an object"),
        ('{"steps": [{"op": "create", "urn": "team-a"}]}', "a step has no op or no Pulumi URN"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    status, out, err = run(capsys, monkeypatch, text)
    assert status == 2
    assert out == ""
    assert err.startswith("review: stdin: ")
    assert message in err


def test_a_missing_or_binary_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main([str(tmp_path / "nope.json")]) == 2
    assert "review: cannot read" in capsys.readouterr().err
    binary = tmp_path / "preview.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    assert main([str(binary)]) == 2
    assert f"review: cannot read {binary}" in capsys.readouterr().err


def test_the_preview_of_another_program_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(PREVIEWS / "other-program.json")]) == 2
    err = capsys.readouterr().err
    assert "has none of the resources reviewed" in err
    assert "kubernetes:core/v1:ConfigMap" in err
    assert "it is the preview of another project" in err


def test_a_preview_of_another_project_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", "billing", str(PREVIEWS / "create-namespace.json")]) == 2
    err = capsys.readouterr().err
    assert "the preview is of project 'concurrent-infra' (stack 'e2e'), not 'billing'" in err
    assert "--project concurrent-infra to review it anyway" in err


def test_no_traceback_from_the_command_line() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "concurrent_infra.review"],
        input="not json at all",
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("review: stdin: the input is not JSON")
