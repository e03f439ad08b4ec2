"""The first `make sim` / `make test` says what it sets up and that it takes a minute or
two (it used to print nothing of its own for ~50 s while pip ran)."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FAKE_PYTHON = """#!/bin/sh
# python3 -m venv DIR: a venv whose pip only says what it was asked
echo "python $*"
mkdir -p "$3/bin"
printf '#!/bin/sh\\necho "pip $*"\\n' > "$3/bin/pip"
chmod +x "$3/bin/pip"
"""


def test_the_setup_says_what_it_does_and_how_long_it_takes(tmp_path):
    py = tmp_path / "python3"
    py.write_text(FAKE_PYTHON)
    py.chmod(0o755)
    venv = tmp_path / "venv"
    r = subprocess.run(["make", "-C", ROOT, "--no-print-directory", "%s/.installed" % venv,
                        "VENV=%s" % venv, "PYTHON=%s" % py],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = r.stdout
    said = out.index("== setting up %s from pyproject.toml" % venv)
    assert "a minute or two" in out
    assert said < out.index("python -m venv") < out.index("pip install") < out.index(
        "== %s ready" % venv)
    assert (venv / ".installed").exists()
    again = subprocess.run(["make", "-C", ROOT, "--no-print-directory",
                            "%s/.installed" % venv, "VENV=%s" % venv, "PYTHON=%s" % py],
                           capture_output=True, text=True, timeout=60)
    assert "setting up" not in again.stdout  # once only
