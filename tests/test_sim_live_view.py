"""The live view of `glasses sim` in a pseudo-terminal, as a user sees it (a terminal
emulator, pyte, reads what it draws): at 80x24 and at 160x50 the log panel, where the
voice answers are, is on screen with the latest lines of the run's log."""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

import pyte
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXIT_S = 60  # Ctrl-C to exit, on a busy machine (it takes a few seconds)


def _ctrl_c_reaches_it():
    """In the child before exec: SIGINT to its default, as in a terminal. A suite started
    in the background (`make test &`, some CI runners) inherits SIGINT ignored, and a
    `glasses sim` started from it would never see the Ctrl-C this file sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run_in_pty(tmp_path, cols, rows, seconds=7.0):
    log = tmp_path / "run.log"
    pid, fd = pty.fork()
    if pid == 0:  # the child: `glasses sim` on a terminal of that size
        _ctrl_c_reaches_it()
        os.environ["GLASSES_CONFIG_DIR"] = str(tmp_path / "cfg")
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = str(cols), str(rows)
        os.environ["PYTHONPATH"] = ROOT
        os.chdir(str(tmp_path))  # its speaker WAV goes to ./sim-out
        glasses = os.path.join(os.path.dirname(sys.executable), "glasses")
        os.execv(glasses, [glasses, "sim", "--seconds", "60", "--port", "0", "--log",
                           str(log)])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    end = time.monotonic() + seconds
    frames = []  # the screen each time the drawing paused (a frame drawn whole)
    fresh = False
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.03)
        if r:
            try:
                stream.feed(os.read(fd, 65536))
                fresh = True
            except OSError:
                break
        elif fresh:
            frames.append(list(screen.display))
            fresh = False
    shown = frames[-3:]
    os.kill(pid, signal.SIGINT)
    rest = b""
    end = time.monotonic() + EXIT_S
    status = None
    while status is None and time.monotonic() < end:  # read all it writes until it exits
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                rest += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError("glasses sim did not exit within %d s of Ctrl-C; its last "
                             "output: %r" % (EXIT_S, rest[-400:]))
    return shown, log.read_text().splitlines(), rest.decode(errors="replace")


def _whole(frames):
    """The last frame that shows the view from its head line to the log's bottom."""
    for shown in reversed(frames):
        top = [i for i, line in enumerate(shown) if "─ log ─" in line]
        if top and any(line.lstrip().startswith("╰") for line in shown[top[-1]:]) and \
                any("seed " in line and " t=" in line for line in shown[:top[-1]]):
            return shown
    return frames[-1] if frames else []


@pytest.mark.parametrize("cols, rows", [(80, 24), (160, 50)])
def test_the_log_panel_is_on_screen_at_80x24_and_160x50(tmp_path, cols, rows):
    frames, log, rest = _run_in_pty(tmp_path, cols, rows)
    shown = _whole(frames)
    top = [i for i, line in enumerate(shown) if "─ log ─" in line]
    assert top, "no log panel on the %dx%d screen:\n%s" % (cols, rows, "\n".join(shown))
    bottom = [i for i in range(top[-1] + 1, rows) if shown[i].lstrip().startswith("╰")]
    assert bottom, "the log panel's bottom is off screen:\n" + "\n".join(shown)
    inside = [shown[i].strip().strip("│").strip() for i in range(top[-1] + 1, bottom[0])]
    inside = [t for t in inside if t]
    assert len(inside) >= 5, inside
    # its lines are the log's, in order, and the newest the run had by then (cut to fit)
    stripped = [line.strip() for line in log]
    starts = [i for i, line in enumerate(stripped) if line.startswith(inside[-1][:40])]
    assert starts, (inside[-1], log[-10:])
    assert "seed " in rest  # and Ctrl-C ends it with the summary


def test_under_a_pipe_ctrl_c_still_ends_with_the_summary_and_the_wav(tmp_path):
    """`make sim | cat`, then Ctrl-C: the terminal's SIGINT reaches both; cat goes first
    and takes the pipe with it, and the run still prints its summary (on stderr) and
    writes what the speaker played."""
    import subprocess
    sc = tmp_path / "s.txt"
    sc.write_text("1 put_on\n2 notify Lunch? app=Chat\n")
    glasses = os.path.join(os.path.dirname(sys.executable), "glasses")
    env = dict(os.environ, GLASSES_CONFIG_DIR=str(tmp_path / "cfg"), PYTHONPATH=ROOT)
    p = subprocess.Popen(["sh", "-c", "'%s' sim --port 0 --scenario '%s' | cat"
                          % (glasses, sc)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=str(tmp_path), env=env, start_new_session=True,
                         preexec_fn=_ctrl_c_reaches_it)
    seen = b""
    end = time.monotonic() + 60
    while time.monotonic() < end and b"host voice: say" not in seen:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    assert b"host voice: say" in seen, seen.decode(errors="replace")
    time.sleep(2.5)  # the title is spoken
    os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C on the terminal does
    out, err = p.communicate(timeout=60)
    text = (seen + out).decode(errors="replace") + err.decode(errors="replace")
    assert "Traceback" not in text, text
    tail = err.decode(errors="replace")  # the pipe was gone: the end came on stderr
    assert "boots 1, resets: none" in tail and "power: average" in tail, text
    assert tail.rstrip().splitlines()[-1].startswith("seed "), tail
    wav = tail.split("speaker audio: ", 1)[1].split("\n", 1)[0]
    assert wav.endswith("sim-out/xiao_esp32s3_sense-speaker.wav") and \
        os.path.getsize(wav) > 10000, tail
