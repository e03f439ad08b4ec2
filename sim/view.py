"""The live terminal view of `glasses sim` (rich), redrawn a few times a second: outputs
(LEDs, haptic, speaker), sensors (battery, worn, IMU), link, power, the firmware's task
table and the latest log lines. Only used on a terminal; pipes get plain log lines."""
import asyncio
import time

from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


def _part(w, name):
    p = w.parts.get(name)
    return p.describe() if p is not None else "-"


def render(g, wall0, host=None):
    """host: the SimHost of `make sim` (its link panel), or None."""
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

    tasks = Table(box=None, padding=(0, 1))
    for col in ("task", "state", "prio", "runs", "run ms", "worst us"):
        tasks.add_column(col, justify="left" if col in ("task", "state") else "right")
    if g.sched is not None:
        for name, state, prio, runs, run_us, worst, _r in g.sched.stats():
            tasks.add_row(name, state, str(prio), str(runs), "%.1f" % (run_us / 1000),
                          str(worst))
    logs = Text("\n".join(list(w.recent)[-12:]))
    top = Table.grid(padding=(0, 4))
    top.add_row(Panel(outs, title="outputs"), Panel(sens, title="sensors, link, power"))
    parts = [head, top]
    if host is not None and host.service is not None:
        from host_tools.phone.view import link_table
        link = g.app.link if g.app is not None else None
        parts.append(Panel(link_table(host.service.snapshot(),
                                      link.session.stats() if link is not None else {}),
                           title="link: glasses and host"))
    return Group(*parts, Panel(tasks, title="firmware tasks"), Panel(logs, title="log"))


async def live(g, state=None, refresh_s=0.25):
    """Redraw the view until the run ends (cancel this task to stop). state: a dict whose
    "host" is the SimHost once it runs."""
    wall0 = time.monotonic()
    state = state or {}
    with Live(render(g, wall0), refresh_per_second=8, screen=False) as lv:
        try:
            while True:
                await asyncio.sleep(refresh_s)
                lv.update(render(g, wall0, state.get("host")))
        except asyncio.CancelledError:
            lv.update(render(g, wall0, state.get("host")))
            raise
