"""`glasses connect`: open the link once and show who answered (pairs if needed). Through
a running host it makes the host link (again, after `glasses forget`); without one it
links over BLE itself (host_tools/cli/linking.py)."""
from host_tools import errors as exits
from host_tools.cli import linking, options


def register(sub):
    c = sub.add_parser("connect", help="link up with the glasses (pairs if needed)",
                       description="Open the link once and show who answered. Through a "
                       "running host: make it link (again, after `glasses forget`).")
    options.link(c)
    c.set_defaults(fn=run)


def run(args):
    async def body(link, console):
        peer = await link.connect(args.timeout)
        console.print("[green]linked[/green] %s: %s, firmware %s (%s)" % (
            link.via, peer.get("board"), peer.get("version"),
            "session resumed" if peer.get("resumed") else "new session"), highlight=False)
        return exits.OK
    return linking.run_linked(args, body)
