"""`glasses logs [--level L] [-n N] [-f]`: the glasses' log, one record a line, as tail
does: the records they hold (the last N with -n), then with --follow the new ones until
Ctrl-C. Through the running host when there is one (it asks the glasses once for all its
followers), else over BLE itself (host_tools/cli/linking.py).

Where the backlog ends: the status says the number of the glasses' next record
(`log_seq`); the backlog is what comes before it (records below --level are not sent, so
a short quiet moment also ends it)."""
import asyncio
from collections import deque

from host_tools import errors as exits
from host_tools.cli import linking, options

LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}
QUIET_S = 0.5  # no record for this long: the backlog is through
SEQ_MASK = (1 << 30) - 1


def register(sub):
    lg = sub.add_parser("logs", help="the glasses' log: what they hold (-f: and what comes)")
    options.link(lg)
    lg.add_argument("--level", choices=sorted(LEVELS, key=LEVELS.get), default="info",
                    help="lowest level shown (default: info)")
    lg.add_argument("-n", "--lines", type=int, default=0, metavar="N",
                    help="only the last N records the glasses hold (default: all)")
    lg.add_argument("-f", "--follow", action="store_true",
                    help="then keep printing new records until Ctrl-C")
    lg.set_defaults(fn=run)


def _before(seq, end):
    """seq comes before end (30-bit wrapping numbers)?"""
    d = (end - seq) & SEQ_MASK
    return 0 < d < (1 << 29)


async def tail(link, level, lines=0, follow=False, out=print, timeout_s=5.0):
    """Print the glasses' backlog (its last `lines`), then with follow the new records."""
    st = await link.status(timeout_s)
    end = st.get("log_seq")
    records = link.logs(level).__aiter__()
    backlog = deque(maxlen=lines or None)
    first_new = None
    while True:
        try:
            rec = await asyncio.wait_for(records.__anext__(), QUIET_S)
        except asyncio.TimeoutError:
            break  # quiet: nothing more held
        except StopAsyncIteration:
            break
        if end is not None and not _before(rec.get("seq") or 0, end):
            first_new = rec  # the backlog is through
            break
        backlog.append(rec)
    for rec in backlog:
        out(rec.get("text"))
    if not follow:
        return
    if first_new is not None:
        out(first_new.get("text"))
    async for rec in records:
        out(rec.get("text"))


def run(args):
    if args.lines < 0:
        print("glasses logs: -n must be >= 0")
        return exits.USAGE

    async def body(link, console):
        if args.follow:
            console.print("the glasses' log %s (Ctrl-C stops)" % link.via, highlight=False)
        await tail(link, LEVELS[args.level], args.lines, args.follow,
                   lambda text: print(text, flush=True), args.timeout)
        return exits.OK
    return linking.run_linked(args, body)
