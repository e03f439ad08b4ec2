"""Progress of long work (host_tools/cli/progress.py): a bar with bytes, rate and time
left on a terminal; a plain line at every tenth of the way otherwise."""
import io

from rich.console import Console

from host_tools.cli.progress import Transfer


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_off_a_terminal_a_line_at_every_tenth_with_rate_and_time_left():
    out = io.StringIO()
    clock = Clock()
    with Transfer(Console(file=out, force_terminal=False, width=100), "sending",
                  clock=clock) as t:
        t.update(0, 100000)
        for k in range(1, 51):  # 2 kB a second for 50 s
            clock.t += 1.0
            t.update(2000 * k)
        t.describe("waiting for the glasses to restart")
    lines = out.getvalue().splitlines()
    assert len(lines) == 11, lines  # 10 %, 20 %, ..., 100 %, and the status
    assert lines[0] == "sending: 10% (10.0 of 100.0 kB, 2.0 kB/s, 45 s left)"
    assert lines[4] == "sending: 50% (50.0 of 100.0 kB, 2.0 kB/s, 25 s left)"
    assert lines[9] == "sending: 100% (100.0 of 100.0 kB, 2.0 kB/s)"
    assert lines[10] == "waiting for the glasses to restart"


def test_a_label_that_changes_often_is_no_line_of_its_own():
    out = io.StringIO()
    clock = Clock()
    with Transfer(Console(file=out, force_terminal=False), "writing", clock=clock) as t:
        t.update(0, 1000)
        for name in ("a.py", "b.py", "c.py", "d.py"):
            t.describe(name, say=False)
            clock.t += 1.0
            t.advance(250)
        t.advance(-250)  # a chunk written again
        t.advance(250)
    lines = out.getvalue().splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["a.py", "b.py", "c.py", "d.py"]
    assert lines[-1].startswith("d.py: 100% (1.0 of 1.0 kB")


def test_on_a_terminal_a_bar_with_bytes_rate_and_time_left():
    out = io.StringIO()
    clock = Clock()
    with Transfer(Console(file=out, force_terminal=True, width=120), "sending",
                  clock=clock) as t:
        t.update(0, 250000)
        for k in range(1, 6):
            clock.t += 1.0
            t.update(25000 * k)
    text = out.getvalue()
    assert "sending" in text and "━" in text  # the bar
    assert "125.0/250.0 kB" in text and "25.0 kB/s" in text and "0:00:05" in text, text
    assert "sending:" not in text  # not the plain line
