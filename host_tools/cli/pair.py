"""`glasses pair [NAME]`: find the glasses (by name, or the first found), connect, bond
with them (LE Secure Connections) and show who they are: model, serial, firmware,
battery. --radio as for `glasses scan`.
"""
from rich.console import Console

from firmware.protocol import uuids
from host_tools import errors as exits
from host_tools.cli import linking, options


def register(sub):
    p = sub.add_parser("pair", help="pair and bond with the glasses (LE Secure Connections)")
    options.radio(p)
    options.timeout(p)
    p.add_argument("name", nargs="?", default=None,
                   help="the glasses' name (default: the first glasses found)")
    p.set_defaults(fn=run)


def run(args):
    console = Console()
    return linking.on_radio(args.radio, console,
                            lambda radio: pair(radio, args.name, args.timeout, console))


async def pair(radio, name, timeout, console):
    """Find the glasses (by name, or the first found), connect, bond, show who they are.
    Returns the exit code."""
    from bleak import BleakClient
    from bleak.exc import BleakDeviceNotFoundError, BleakError

    with console.status("Looking for %s..." % (name or "glasses")):
        found = await linking.discover(radio, timeout)
    if name is not None:
        found = [da for da in found if da[1].local_name == name]
    if not found:
        linking.error(console, "%s not found within %s s (are they on, near, and not "
                      "connected to another phone?)" % (name or "no glasses", timeout))
        return exits.NOT_FOUND
    device, ad = found[0]
    label = ad.local_name or device.address
    try:
        with console.status("Connecting to %s..." % label):
            client = BleakClient(device, backend=radio.client, timeout=timeout)
            await client.connect()
        try:
            with console.status("Pairing with %s (LE Secure Connections)..." % label):
                await client.pair()
            info = {}
            for key, n in (("model", uuids.MODEL_NUMBER), ("serial", uuids.SERIAL_NUMBER),
                           ("firmware", uuids.FIRMWARE_REVISION)):
                info[key] = bytes(await client.read_gatt_char(uuids.uuid16_full(n))).decode(
                    "utf-8", "replace")
            battery = (await client.read_gatt_char(uuids.uuid16_full(uuids.BATTERY_LEVEL)))[0]
        finally:
            await client.disconnect()
    except BleakDeviceNotFoundError as e:
        linking.error(console, e)
        return exits.NOT_FOUND
    except exits.PairingRefused as e:
        linking.error(console, "%s. If the glasses were paired with this computer before, "
                      "make them forget their bonds and try again." % e)
        return exits.PAIRING_REFUSED
    except BleakError as e:
        linking.error(console, e)
        return exits.PAIRING_REFUSED
    console.print("[green]paired[/green] with %s (%s): model %s, serial %s, firmware %s, "
                  "battery %d%%" % (label, device.address, info["model"], info["serial"],
                                    info["firmware"], battery))
    return exits.OK
