"""`glasses pair [NAME]`: find the glasses (by name, or the first found), connect, bond
with them (LE Secure Connections) and show who they are: model, serial, firmware,
battery. --radio as for `glasses scan`.

The glasses take a new phone only while their pairing window is open (docs/security.md):
they say in their scan response whether it is, and drop a pairing outside it. Then this
says how to open it on that board (its board data's `pairing_gesture`) and exits 5.
"""
import asyncio
import importlib
import re

from rich.console import Console

from firmware.ble import adv
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
        found = await linking.find_first(radio, timeout, name)  # as soon as one answers
    if found is None:
        linking.error(console, "%s not found within %s s (are they on, near, and not "
                      "connected to another phone?)" % (name or "no glasses were", timeout))
        return exits.NOT_FOUND
    device, ad = found
    label = ad.local_name or device.address
    window = pairing_open(ad)
    known = radio.virtual and await radio.adapter.keys_for(device.address) is not None
    try:
        with console.status("Connecting to %s..." % label):
            client = BleakClient(device, backend=radio.client, timeout=timeout)
            await client.connect()
        try:
            model = bytes(await client.read_gatt_char(uuids.uuid16_full(
                uuids.MODEL_NUMBER))).decode("utf-8", "replace")
            if window is False and radio.virtual and not known:
                linking.error(console, "%s %s" % (label, closed_hint(model)))
                return exits.PAIRING_REFUSED
            with console.status("Pairing with %s (LE Secure Connections)..." % label):
                await client.pair()
            await asyncio.sleep(0.3)  # glasses that refuse the bond drop the link at once
            if not client.is_connected:
                await client.unpair()  # keys the glasses did not keep would be refused
                linking.error(console, "%s dropped the pairing: %s" % (label,
                                                                     closed_hint(model)))
                return exits.PAIRING_REFUSED
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
                      "make them forget it and try again; %s" % (e, closed_hint(None)))
        return exits.PAIRING_REFUSED
    except BleakError as e:
        linking.error(console, e)
        return exits.PAIRING_REFUSED
    console.print("[green]paired[/green] with %s (%s): model %s, serial %s, firmware %s, "
                  "battery %d%%" % (label, device.address, info["model"], info["serial"],
                                    info["firmware"], battery))
    return exits.OK


def pairing_open(ad):
    """The glasses' pairing window from their scan response: True open, False closed,
    None if they do not say (firmware/ble/adv.py's state byte)."""
    b = (getattr(ad, "manufacturer_data", None) or {}).get(adv.COMPANY_ID)
    return None if not b else bool(b[0] & adv.STATE_PAIRING)


def closed_hint(model):
    """What to do when the glasses' pairing window is closed, for their board."""
    how = None
    if model and re.fullmatch(r"[a-z0-9_]{1,40}", model):
        try:
            data = importlib.import_module("boards.%s.board" % model).DATA
            how = (data.get("options") or {}).get("pairing_gesture")
        except ImportError:
            pass
    return ("is not taking new phones: open its pairing window (%s; it chimes and its "
            "LED blinks fast for 60 s), then run `glasses pair` again" %
            (how or "see its board's pairing gesture in boards/README.md"))
