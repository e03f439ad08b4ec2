"""The live terminal view of `glasses sim` (rich), redrawn a few times a second: outputs
(LEDs, haptic, speaker), sensors (battery, worn, IMU), link, power, the firmware's task
table and the latest log lines. Only used on a terminal; pipes get plain log lines.

It fits the terminal: the log (where the voice answers are) always keeps at least
LOG_MIN lines, and what does not fit goes first: the task table shrinks to the busiest
tasks, then the link table, then the outputs/sensors panels. At 80x24 the log shows;
the larger the terminal, the more of everything."""
import asyncio
import io
import time

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


def _part(w, name):
    p = w.parts.get(name)
    return p.describe() if p is not None else "-"


def render(g, wall0, host=None, size=(120, 60)):
    """host: the SimHost of `make sim` (its link panel), or None. size: the terminal's
    (width, height)."""
    w = g.world
    sim_s = w.now_s()
    rep = w.power.report()
    wall = time.monotonic() - wall0
    head = Text("%s  seed %d  t=%.1f s  (%s)  boots %d" % (
        w.name, g.seed, sim_s, "virtual %.0fx" % (sim_s / wall) if w.virtual and wall else
        "real time", g.boots), style="bold")

    outs = Table.grid(padding=(0, 2))
    outs.add_column(style="cyan")
    outs.add_column()
    for name in ("led", "privacy_led", "haptic", "speaker", "mic"):
        outs.add_row(name, _part(w, name))
    touch = [p for n, p in sorted(w.parts.items()) if n.startswith("touch")]
    outs.add_row("touch", " ".join("%s:%s" % (p.label, "X" if p.touched else "-")
                                   for p in touch) or "-")

    sens = Table.grid(padding=(0, 2))
    sens.add_column(style="cyan")
    sens.add_column()
    sens.add_row("battery", w.battery.describe() if w.battery else "-")
    sens.add_row("worn", _part(w, "prox"))
    sens.add_row("imu", _part(w, "imu"))
    latest = g.app.latest if g.app else {}
    if "battery" in latest:
        soc, v, chg, _t = latest["battery"]
        sens.add_row("fw battery", "%.1f%% %.2f V%s" % (soc, v, " charging" if chg else ""))
    if "prox" in latest:
        sens.add_row("fw prox", str(latest["prox"][0]))
    st = g.part_status()
    if st:
        sens.add_row("sensors", ", ".join("%s %s" % kv for kv in sorted(st.items())))
    sens.add_row("link", g.link_state())
    life = rep["battery_life_h"]
    sens.add_row("power", "%s now, %.2f mA avg, %s" % (
        w.power.state, rep["avg_ma"], "%.0f h battery" % life if life else "-"))

    link_panel = None
    if host is not None and host.service is not None:
        from host_tools.phone.view import link_table
        link = g.app.link if g.app is not None else None
        link_panel = Panel(link_table(host.service.snapshot(),
                                      link.session.stats() if link is not None else {}),
                           title="link: glasses and host")
    top = Table.grid(padding=(0, 4))
    top.add_row(Panel(outs, title="outputs"), Panel(sens, title="sensors, link, power"))
    return _fit(head, top, link_panel, g, list(w.recent), size)


LOG_MIN = 5  # log lines that always show


def _height(r, width):
    return len(_MEASURE.render_lines(r, _MEASURE.options.update(width=width)))


_MEASURE = Console(file=io.StringIO(), width=200, height=100)


def _tasks(g, rows):
    t = Table(box=None, padding=(0, 1))
    for col in ("task", "state", "prio", "runs", "run ms", "worst us"):
        t.add_column(col, justify="left" if col in ("task", "state") else "right")
    stats = list(g.sched.stats()) if g.sched is not None else []
    if len(stats) > rows:  # the busiest, when not all fit
        stats = sorted(stats, key=lambda r: -r[4])[:max(rows, 0)]
    for name, state, prio, runs, run_us, worst, _r in stats:
        t.add_row(name, state, str(prio), str(runs), "%.1f" % (run_us / 1000), str(worst))
    return Panel(t, title="firmware tasks")


def _log(recent, width, rows):
    """The log panel with the newest lines that fit `rows` rows (wrapped as shown)."""
    lines = []
    for line in reversed(recent):
        trial = [line] + lines
        if lines and _height(Panel(Text("\n".join(trial))), width) > rows:
            break
        lines = trial
    return Panel(Text("\n".join(lines)), title="log")


def _fit(head, top, link_panel, g, recent, size):
    """The sections that fit `size` (width, height): the log first (at least LOG_MIN of
    its newest lines, as wrapped), then the panels, the link table, the tasks."""
    width, height = size
    least = _height(Panel(Text("\n".join(recent[-LOG_MIN:]))), width)
    room = height - _height(head, width) - least - 1  # the cursor's line stays free
    parts = [head]
    h_top = _height(top, width)
    if h_top <= room:
        parts.append(top)
        room -= h_top
    if link_panel is not None:
        h_link = _height(link_panel, width)
        if h_link <= room:
            parts.append(link_panel)
            room -= h_link
    n_tasks = len(g.sched.stats()) if g.sched is not None else 0
    if room >= 5 and n_tasks:  # a border, the header row and a task or more
        rows = min(n_tasks, room - 3)
        parts.append(_tasks(g, rows))
        room -= rows + 3
    parts.append(_log(recent, width, least + max(room, 0)))
    return Group(*parts)


async def live(g, state=None, refresh_s=0.25):
    """Redraw the view until the run ends (cancel this task to stop). state: a dict whose
    "host" is the SimHost once it runs."""
    wall0 = time.monotonic()
    state = state or {}
    console = Console()

    def view():
        return render(g, wall0, state.get("host"), (console.size.width, console.size.height))

    with Live(view(), console=console, refresh_per_second=8, screen=False) as lv:
        try:
            while True:
                await asyncio.sleep(refresh_s)
                lv.update(view())
        except asyncio.CancelledError:
            lv.update(view())
            raise
