"""`glasses status [--json]`: the glasses' battery, firmware, board, uptime, missing parts
and the link's statistics on both sides, as tables (or the raw status as JSON). Through
the running host when there is one, else over BLE itself (host_tools/cli/linking.py)."""
import json

from rich.console import Group
from rich.table import Table

from host_tools import errors as exits
from host_tools.cli import linking, options, render

STATS = ("state", "connects", "mtu", "rtt_ms", "retransmits", "duplicates", "bad_frames",
         "goodput_in", "goodput_out", "audio_lost", "audio_dropped", "bonds", "tx_full")
REFUSED = ("pairing", "squatter", "ignored", "writes")


def register(sub):
    s = sub.add_parser("status", help="battery, firmware, board and link statistics")
    options.link(s)
    s.add_argument("--json", action="store_true", help="print the raw status as JSON")
    s.set_defaults(fn=run)


def run(args):
    async def body(link, console):
        st = await link.status(args.timeout)
        if args.json:
            print(json.dumps(st, indent=2, sort_keys=True, default=repr))
        else:
            console.print(status_tables(st, link.via))
        return exits.OK
    return linking.run_linked(args, body)


def status_tables(st, via):
    t = Table(title="glasses %s" % via, show_header=False, title_justify="left")
    t.add_column(style="cyan")
    t.add_column()
    battery = st.get("battery")
    t.add_row("battery", "%s %%" % battery if isinstance(battery, int) and battery >= 0
              else "unknown")
    t.add_row("firmware", str(st.get("firmware")))
    t.add_row("board", str(st.get("board")))
    up = st.get("uptime_ms")
    t.add_row("uptime", "%.1f s" % (up / 1000) if isinstance(up, int) else "?")
    t.add_row("missing parts", ", ".join(st.get("missing") or []) or "none")
    for k, v in sorted(st.items()):
        if k not in ("battery", "firmware", "board", "uptime_ms", "missing", "link",
                     "host_link"):
            t.add_row(k, render.cell(v))
    g = st.get("link") or {}
    h = st.get("host_link") or {}
    lt = Table(title="link", title_justify="left")
    lt.add_column("", style="cyan")
    lt.add_column("glasses side", justify="right")
    lt.add_column("host side", justify="right")
    for k in STATS:
        if k in g or k in h:
            lt.add_row(k, str(g.get(k, "")), str(h.get(k, "")))
    return Group(t, lt, phones_table(g))


def _ago(s):
    if s is None:
        return "not since the glasses started"
    return "now" if s < 5 else ("%d s ago" % s if s < 120 else "%d min ago" % (s // 60))


def phones_table(g):
    """The bonded phones, who is linked, the pairing window and what was refused."""
    pt = Table(title="phones", title_justify="left")
    pt.add_column("name", style="cyan")
    pt.add_column("last linked")
    pt.add_column("")
    for p in g.get("phones") or []:
        pt.add_row(p.get("name") or "(no name yet)", _ago(p.get("seen_s")),
                   "linked" if p.get("linked") else "")
    pairing = g.get("pairing") or {}
    if pairing:
        pt.caption = "pairing window: %s" % (
            "open (%d s left)" % pairing.get("left_s", 0) if pairing.get("open") and
            pairing.get("left_s") else "open (no phone bonded)" if pairing.get("open")
            else "closed")
    refused = g.get("refused") or {}
    if refused:
        pt.caption = (pt.caption or "") + "; refused: " + ", ".join(
            "%d %s" % (refused.get(k, 0), k) for k in REFUSED)
    return pt
