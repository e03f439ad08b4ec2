"""`glasses scan`: list the glasses in range (with --all, every BLE device), nearest first.

--radio system (the default; or $GLASSES_RADIO) uses the computer's Bluetooth through
bleak; --radio virtual[:HOST:PORT] reaches the simulator's radio (`glasses sim` prints
the address). The same bleak calls run either way.
"""
from rich.console import Console
from rich.table import Table

from host_tools import errors as exits
from host_tools.cli import linking, options


def register(sub):
    s = sub.add_parser("scan", help="list the glasses in range")
    options.radio(s)
    options.timeout(s)
    s.add_argument("--all", action="store_true", help="list every BLE device, not only glasses")
    s.set_defaults(fn=run)


def run(args):
    console = Console()
    return linking.on_radio(args.radio, console, lambda radio: scan(radio, args, console))


async def scan(radio, args, console):
    with console.status("Scanning for %s s on the %s radio..." % (args.timeout, radio.name)):
        found = await linking.discover(radio, args.timeout, args.all)
    if not found:
        console.print("no glasses found in %s s (are they on and advertising?)" % args.timeout)
        return exits.NOT_FOUND
    table = Table("name", "address", "rssi", "services")
    for dev, ad in found:
        table.add_row(ad.local_name or "?", dev.address, str(ad.rssi),
                      ", ".join(ad.service_uuids))
    console.print(table)
    return exits.OK
