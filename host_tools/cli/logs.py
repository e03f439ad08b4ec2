"""`glasses logs [--level L] [-n N]`: follow the glasses' log, one record a line, until
Ctrl-C (or N records). Through the running host when there is one (it asks the glasses
once for all its followers), else over BLE itself (host_tools/cli/linking.py)."""
from host_tools import errors as exits
from host_tools.cli import linking, options

LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}


def register(sub):
    lg = sub.add_parser("logs", help="follow the glasses' log (until Ctrl-C)")
    options.link(lg)
    lg.add_argument("--level", choices=sorted(LEVELS, key=LEVELS.get), default="info",
                    help="lowest level shown (default: info)")
    lg.add_argument("-n", "--lines", type=int, default=0, metavar="N",
                    help="stop after N records (default: follow until Ctrl-C)")
    lg.set_defaults(fn=run)


def run(args):
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
    return linking.run_linked(args, body)
