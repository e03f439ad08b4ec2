"""tests/system_deps.sh (`make system-deps`, run by `make test`): what the suite needs from
the system is installed with apt as root; otherwise the one command to run is printed."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tests", "system_deps.sh")


def test_a_user_without_root_is_told_the_one_command_to_run(tmp_path):
    fake_id = tmp_path / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    # a PATH with no qemu-system-arm on it (and an `id` that is not root)
    r = subprocess.run(["/bin/bash", SCRIPT], env={"PATH": str(tmp_path)},
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "sudo apt-get install qemu-system-arm" in r.stderr, r.stderr
    assert "emulated micro:bit" in r.stderr


def test_nothing_happens_when_everything_is_there():
    if subprocess.run(["sh", "-c", "command -v qemu-system-arm"]).returncode != 0:
        # the suite installs it first (make test runs system-deps before pytest)
        raise AssertionError("qemu-system-arm missing: run `make system-deps`")
    r = subprocess.run(["/bin/bash", SCRIPT], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", (r.stdout, r.stderr)
