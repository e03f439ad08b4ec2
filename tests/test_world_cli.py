"""`glasses world`: events on the glasses of a running simulator from another terminal
(the rig in real time in its own thread, as `make sim`), through the control endpoint."""
import time

import pytest

from host_tools import cli, errors as exits
from link_util import RigThread


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    d = tmp_path / "cfg"
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(d))
    return d


def run(capsys, *argv):
    code = cli.main(["world", *argv])
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())


def until(rig, cond, timeout_s):
    t_end = time.monotonic() + timeout_s
    while not rig.call(cond):
        assert time.monotonic() < t_end, "not reached within %g s" % timeout_s
        time.sleep(0.1)


def test_tap_and_a_spoken_question_reach_the_running_glasses(tmp_path, cfg, capsys):
    with RigThread(tmp_path, control_dir=str(cfg)) as rig:
        rig.wait_open()
        g = rig.rig.glasses
        code, out = run(capsys, "tap")
        assert code == exits.OK and out == "done: tap", out
        until(rig, lambda: "INFO  tap single" in g.log_text(), 5)
        # spoken to: heard by the simulated mic, answered by the host's voice path
        until(rig, lambda: not g.app.voice.muted and not g.app.voice.busy(), 10)
        time.sleep(1.5)  # the microphone's VAD learns the room first
        code, out = run(capsys, "say", "what", "is", "my", "battery", "level")
        assert code == exits.OK and out == "done: say what is my battery level", out
        until(rig, lambda: g.app.voice.answers == 1, 20)
        # (in real time, on a loaded machine, the ASR may miss a word: the answer is what
        # this test is about)
        assert "battery level" in rig.call(lambda: g.app.voice.heard)
        # a bad event: a clear error, and the simulator goes on
        code, out = run(capsys, "tapp")
        assert code == exits.CODES["bad_request"] and "unknown event 'tapp'" in out, out
        code, out = run(capsys, "say")
        assert code == exits.CODES["bad_request"] and "say needs the words" in out, out
        code, out = run(capsys, "take_off")
        assert code == exits.OK and "INFO" not in out


def test_no_simulator_running(cfg, capsys):
    code, out = run(capsys, "tap")
    assert code == exits.CODES["failed"] and "no simulator is running" in out, out
