"""`glasses forget [--all]`: the glasses forget this computer (--all: every phone they are
bonded with) and drop the link, then this computer forgets its keys for them. A running
host then stops reconnecting until `glasses connect`. Through the running host when
there is one, else over BLE itself (host_tools/cli/linking.py)."""
from host_tools import errors as exits
from host_tools.cli import linking, options


def register(sub):
    f = sub.add_parser("forget", help="the glasses forget this computer (--all: every phone), "
                       "this computer its keys")
    options.link(f)
    f.add_argument("--all", action="store_true", dest="every",
                   help="the glasses forget every bonded phone, not only this one")
    f.set_defaults(fn=run)


def run(args):
    async def body(link, console):
        ok, detail, removed = await link.forget(args.timeout, args.every)
        if not ok:
            linking.error(console, "the glasses refused: %s" % detail)
            return exits.FAILED
        console.print("the glasses: %s; this computer %s" % (
            detail, "forgot its keys for them" if removed else
            "could not forget its keys for them"), highlight=False)
        return exits.OK if removed else exits.FAILED
    return linking.run_linked(args, body)
