"""`glasses scan` and `glasses pair`: find the glasses and bond with them over BLE.

--radio system (the default; or $GLASSES_RADIO) uses the computer's Bluetooth through
bleak; --radio virtual[:HOST:PORT] reaches the simulator's radio (`glasses sim` prints
the address). The same bleak calls run either way.
"""
from __future__ import annotations

import asyncio

from rich.console import Console
from rich.table import Table

from firmware.protocol import uuids
from host_tools import errors as exits

EXIT_NOT_FOUND = exits.NOT_FOUND
EXIT_PAIRING = exits.PAIRING_REFUSED
EXIT_NO_ADAPTER = exits.NO_ADAPTER


def register(sub):
    s = sub.add_parser("scan", help="list the glasses in range")
    _common(s)
    s.add_argument("--all", action="store_true", help="list every BLE device, not only glasses")
    s.set_defaults(fn=run_scan)
    p = sub.add_parser("pair", help="pair and bond with the glasses (LE Secure Connections)")
    _common(p)
    p.add_argument("name", nargs="?", default=None,
                   help="the glasses' name (default: the first glasses found)")
    p.set_defaults(fn=run_pair)


def _common(p):
    p.add_argument("--radio", default=None,
                   help="system (default), virtual, or virtual:HOST:PORT (also $GLASSES_RADIO)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to look for the glasses")


_no_adapter = exits.no_adapter


def _open(args, console):
    from host_tools.radio import open_radio
    try:
        return open_radio(args.radio)
    except exits.RadioSpecError as e:
        console.print("[red]error:[/red] %s" % e)
        return None


async def scan(radio, timeout, all_devices=False):
    """[(BLEDevice, AdvertisementData)] seen within `timeout` s, glasses only unless
    all_devices."""
    from bleak import BleakScanner
    try:
        found = await BleakScanner.discover(
            timeout=timeout, return_adv=True, backend=radio.scanner,
            service_uuids=None if all_devices else [uuids.SERVICE])
    except Exception as e:
        if _no_adapter(e):
            raise exits.NoAdapter(_adapter_hint(radio, e)) from None
        raise
    return sorted(found.values(), key=lambda da: -da[1].rssi)


_adapter_hint = exits.adapter_hint


def run_scan(args):
    console = Console()
    radio = _open(args, console)
    if radio is None:
        return EXIT_NO_ADAPTER
    return asyncio.run(_main(radio, console, _scan_main(radio, args, console)))


async def _main(radio, console, coro):
    try:
        return await coro
    except exits.NoAdapter as e:
        console.print("[red]error:[/red] %s" % e)
        return EXIT_NO_ADAPTER
    except OSError as e:
        if radio.virtual:
            console.print("[red]error:[/red] %s" % _adapter_hint(radio, e))
            return EXIT_NO_ADAPTER
        raise
    finally:
        await radio.close()


async def _scan_main(radio, args, console):
    with console.status("Scanning for %s s on the %s radio..." % (args.timeout, radio.name)):
        found = await scan(radio, args.timeout, args.all)
    if not found:
        console.print("no glasses found in %s s (are they on and advertising?)" % args.timeout)
        return EXIT_NOT_FOUND
    table = Table("name", "address", "rssi", "services")
    for dev, ad in found:
        table.add_row(ad.local_name or "?", dev.address, str(ad.rssi),
                      ", ".join(ad.service_uuids))
    console.print(table)
    return 0


def run_pair(args):
    console = Console()
    radio = _open(args, console)
    if radio is None:
        return EXIT_NO_ADAPTER
    return asyncio.run(_main(radio, console, pair(radio, args.name, args.timeout, console)))


async def pair(radio, name, timeout, console):
    """Find the glasses (by name, or the first found), connect, bond, show who they are.
    Returns the exit code."""
    from bleak import BleakClient
    from bleak.exc import BleakDeviceNotFoundError, BleakError

    with console.status("Looking for %s..." % (name or "glasses")):
        found = await scan(radio, timeout)
    if name is not None:
        found = [da for da in found if da[1].local_name == name]
    if not found:
        console.print("[red]error:[/red] %s not found within %s s (are they on, near, and "
                      "not connected to another phone?)" % (name or "no glasses", timeout))
        return EXIT_NOT_FOUND
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
        console.print("[red]error:[/red] %s" % e)
        return EXIT_NOT_FOUND
    except exits.PairingRefused as e:
        console.print("[red]error:[/red] %s. If the glasses were paired with this computer "
                      "before, make them forget their bonds and try again." % e)
        return EXIT_PAIRING
    except BleakError as e:
        console.print("[red]error:[/red] %s" % e)
        return EXIT_PAIRING
    console.print("[green]paired[/green] with %s (%s): model %s, serial %s, firmware %s, "
                  "battery %d%%" % (label, device.address, info["model"], info["serial"],
                                    info["firmware"], battery))
    return 0
