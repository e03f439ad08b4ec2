"""`glasses sim --plot run.png` (sim/timeline.py): the run's timeline as a picture, and
the figures under it sampled from the simulated board, its radio and its event log."""
import numpy as np

from host_tools import cli
from sim import timeline as T

SCENARIO = """\
1 put_on
4 say hey jarvis, what time is it
9 notify Lunch? app=Chat body="Are you free at noon?"
14 fault imu 5
22 battery 30
25 notify Standup app=Calendar priority=urgent body="in 5 minutes"
30 take_off
37 notify Later app=Mail
"""


def _run(tmp_path, capsys, monkeypatch, *extra):
    sc = tmp_path / "day.txt"
    sc.write_text(SCENARIO)
    drawn = []
    real_draw = T.Timeline.draw

    def spy(self, path, title=None):
        drawn.append(self)
        return real_draw(self, path, title)

    monkeypatch.setattr(T.Timeline, "draw", spy)
    rc = cli.main(["sim", "--fast", "--seed", "3", "--scenario", str(sc), *extra])
    return rc, capsys.readouterr().out, drawn


def test_the_picture_has_its_panels_and_is_not_blank(tmp_path, capsys, monkeypatch):
    png = tmp_path / "run.png"
    rc, out, drawn = _run(tmp_path, capsys, monkeypatch, "--plot", str(png))
    assert rc == 0, out
    assert "timeline: %s (%s)" % (png, ", ".join(T.PANELS)) in out
    from matplotlib import image
    img = image.imread(str(png))
    h, w = img.shape[:2]
    assert w >= 900 and h >= 1000
    rgb = img[:, :, :3]
    assert rgb.std() > 0.05  # not one colour
    assert len(np.unique((rgb * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
    # five panels down the page: each fifth of it has ink (axes, lines, labels)
    ink = (rgb.mean(axis=2) < 0.85).mean(axis=1)
    bands = np.array_split(ink[int(h * 0.05):], len(T.PANELS))
    assert all(b.mean() > 0.01 for b in bands), [round(b.mean(), 3) for b in bands]


def test_the_timeline_follows_the_run(tmp_path, capsys, monkeypatch):
    rc, out, drawn = _run(tmp_path, capsys, monkeypatch, "--plot", str(tmp_path / "r.svg"))
    assert rc == 0, out
    t = drawn[0]
    assert 40 <= len(t.t) <= 43  # one sample a second of the 42 s run
    before = [s for x, s in zip(t.t, t.soc) if x < 22]
    after = [s for x, s in zip(t.t, t.soc) if x > 23]
    assert min(before) > 79 and max(after) < 31  # the scenario's battery 30
    assert all(t.link_up[2:]) and t.retransmits and min(t.retransmits) >= 0
    # the current: the per-second split adds up to the run's average
    total = [sum(t.state_ma[s][i] for s in t.state_ma) + t.parts_ma[i]
             for i in range(len(t.t))]
    assert min(total) > 0
    g_avg = float(out.split("power: average ")[1].split(" mA")[0])
    assert abs(np.mean(total[1:]) - g_avg) / g_avg < 0.1, (np.mean(total), g_avg)
    from host_tools.voice.parse import normalise
    assert [(normalise(q[1]), q[2]) for q in t.queries] == [("what time is it",
                                                             "It's 9:00 AM.")]
    assert 0 <= t.queries[0][3] < 5 and 5 < t.queries[0][0] < 9  # 0: speculation was done
    assert [(a, how) for _t, a, how in t.notifications] == [
        ("Chat", "title spoken"), ("Calendar", "read in full"),
        ("Mail", "waits for a tap (not worn)")]
    assert any("imu stops answering" in f for _t, f in t.faults)
    assert any("imu recovered after" in r for _t, r in t.recoveries)
    assert not any("pairing window" in f for _t, f in t.faults)  # not a fault: the link's
    assert any("pairing window closed" in p for _t, p in t.pairing)


def test_a_plot_it_cannot_write_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    rc, out, drawn = _run(tmp_path, capsys, monkeypatch, "--plot", str(tmp_path / "r.txt"))
    assert rc == 2 and "the picture is a .png, .svg or .pdf file" in out and not drawn
    rc, out, drawn = _run(tmp_path, capsys, monkeypatch, "--plot",
                          str(tmp_path / "no" / "r.png"))
    assert rc == 2 and "cannot write in" in out and not drawn
    assert "simulated s in" not in out  # no run happened
