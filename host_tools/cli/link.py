"""`glasses connect | status | logs | forget` (and the linking `glasses notify` shares).

Each goes through the running host when there is one (`glasses host`, `make sim`: see
host_tools/phone/control.py), else links over BLE itself (--radio, $GLASSES_RADIO). Errors are
one line with their own exit code (host_tools/errors.py).
"""
import asyncio
import json

from rich.console import Console
from rich.table import Table

from host_tools import errors as exits

LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}
_STATS = ("state", "connects", "mtu", "rtt_ms", "retransmits", "duplicates", "bad_frames",
          "goodput_in", "goodput_out", "audio_lost", "audio_dropped", "bonds", "tx_full")


def register(sub):
    c = sub.add_parser("connect", help="link up with the glasses (pairs if needed)",
                       description="Open the link once and show who answered. Through a "
                       "running host: make it link (again, after `glasses forget`).")
    _common(c)
    c.set_defaults(fn=run_connect)
    s = sub.add_parser("status", help="battery, firmware, board and link statistics")
    _common(s)
    s.add_argument("--json", action="store_true", help="print the raw status as JSON")
    s.set_defaults(fn=run_status)
    lg = sub.add_parser("logs", help="follow the glasses' log (until Ctrl-C)")
    _common(lg)
    lg.add_argument("--level", choices=sorted(LEVELS, key=LEVELS.get), default="info",
                    help="lowest level shown (default: info)")
    lg.add_argument("-n", "--lines", type=int, default=0, metavar="N",
                    help="stop after N records (default: follow until Ctrl-C)")
    lg.set_defaults(fn=run_logs)
    f = sub.add_parser("forget", help="the glasses forget their bonds, this computer its keys")
    _common(f)
    f.set_defaults(fn=run_forget)


def _common(p):
    p.add_argument("--radio", default=None,
                   help="system (default), virtual, or virtual:HOST:PORT (also "
                        "$GLASSES_RADIO); used when no host is running")
    p.add_argument("--name", default=None, help="the glasses' name (default: the first found)")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="seconds to find the glasses / wait for an answer (default 5)")
    p.add_argument("--direct", action="store_true",
                   help="link over BLE even if a host is running (it must let go first)")


# ---- running a command ------------------------------------------------------------------
def _run(args, body, console=None):
    console = console or Console()
    return asyncio.run(_with_link(args, body, console))


async def _with_link(args, body, console):
    from host_tools.phone.client import open_link
    try:
        with console.status("Linking with %s..." % (args.name or "the glasses")):
            link = await open_link(args.radio, args.name, args.timeout, args.direct)
        try:
            return await body(link, console)
        finally:
            await link.close()
    except exits.GlassesError as e:
        console.print("[red]error:[/red] %s" % e.message, highlight=False)
        return e.exit_code


def run_connect(args):
    async def body(link, console):
        peer = await link.connect(args.timeout)
        console.print("[green]linked[/green] %s: %s, firmware %s (%s)" % (
            link.via, peer.get("board"), peer.get("version"),
            "session resumed" if peer.get("resumed") else "new session"), highlight=False)
        return exits.OK
    return _run(args, body)


def run_status(args):
    async def body(link, console):
        st = await link.status(args.timeout)
        if args.json:
            print(json.dumps(st, indent=2, sort_keys=True, default=repr))
        else:
            console.print(status_tables(st, link.via))
        return exits.OK
    return _run(args, body)


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
            t.add_row(k, str(v))
    g = st.get("link") or {}
    h = st.get("host_link") or {}
    lt = Table(title="link", title_justify="left")
    lt.add_column("", style="cyan")
    lt.add_column("glasses side", justify="right")
    lt.add_column("host side", justify="right")
    for k in _STATS:
        if k in g or k in h:
            lt.add_row(k, str(g.get(k, "")), str(h.get(k, "")))
    from rich.console import Group
    return Group(t, lt)


def run_logs(args):
    level = LEVELS[args.level]

    async def body(link, console):
        n = 0
        console.print("following the glasses' log %s (Ctrl-C stops)" % link.via,
                      highlight=False)
        async for rec in link.logs(level):
            print(rec.get("text"), flush=True)
            n += 1
            if args.lines and n >= args.lines:
                break
        return exits.OK
    return _run(args, body)


def run_forget(args):
    async def body(link, console):
        ok, detail, removed = await link.forget(args.timeout)
        if not ok:
            console.print("[red]error:[/red] the glasses refused: %s" % detail)
            return exits.FAILED
        console.print("the glasses: %s; this computer %s" % (
            detail, "forgot its keys for them" if removed else
            "could not forget its keys for them"), highlight=False)
        return exits.OK if removed else exits.FAILED
    return _run(args, body)
