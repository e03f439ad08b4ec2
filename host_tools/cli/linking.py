"""What the `glasses` commands that reach the glasses share (their options are
host_tools/cli/options.py):

    code = run_linked(args, body)      # connect, status, logs, forget, notify: awaits
                                       # body(link, console) on a link to the glasses
    code = on_radio(spec, console, main)   # scan, pair: awaits main(radio) on --radio
    found = await discover(radio, timeout) # the glasses in range, nearest first
    error(console, text)                   # the one error line they print

A link goes through the running host when there is one (`glasses host`, `make sim`: see
host_tools/phone/control.py), else over BLE itself (--radio, $GLASSES_RADIO; --direct
skips the host): host_tools/phone/client.py. Errors are one line with their own exit code
(host_tools/errors.py).
"""
import asyncio

from rich.console import Console

from firmware.protocol import uuids
from host_tools import errors as exits


def error(console, text, highlight=True):
    console.print("[red]error:[/red] %s" % (text,), highlight=highlight)


def open_radio(spec, console, highlight=True):
    """The radio for --radio (None: $GLASSES_RADIO, else the system's Bluetooth); None
    after saying why when the spec is not understood."""
    from host_tools.radio import open_radio
    try:
        return open_radio(spec)
    except exits.RadioSpecError as e:
        error(console, e, highlight)
        return None


def run_linked(args, body, console=None):
    """Link with the glasses as options.link's arguments say, await body(link, console)
    (host_tools/phone/client.py: link.via, .status(t), .notify(fields, t), ...) and hang
    up; body's exit code, or a GlassesError's in one line."""
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
        error(console, e.message, highlight=False)
        return e.exit_code


def on_radio(spec, console, main):
    """Await main(radio) (a coroutine of the exit code) on the radio `spec` names, then
    close the radio; a bad spec or no usable radio is exit 3, said in one line."""
    radio = open_radio(spec, console)
    if radio is None:
        return exits.NO_ADAPTER
    return asyncio.run(_on_radio(radio, console, main(radio)))


async def _on_radio(radio, console, coro):
    try:
        return await coro
    except exits.NoAdapter as e:
        error(console, e)
        return exits.NO_ADAPTER
    except OSError as e:
        if radio.virtual:
            error(console, exits.adapter_hint(radio, e))
            return exits.NO_ADAPTER
        raise
    finally:
        await radio.close()


async def find_first(radio, timeout, name=None):
    """(BLEDevice, AdvertisementData) of the first glasses heard (named `name`, if given),
    as soon as they are heard; None after `timeout` s. NoAdapter when the radio cannot
    scan."""
    from bleak import BleakScanner
    seen = {}

    def match(dev, ad):
        if uuids.SERVICE not in (ad.service_uuids or []):
            return False
        if name is not None and ad.local_name != name:
            return False
        seen[dev.address] = ad
        return True

    try:
        dev = await BleakScanner.find_device_by_filter(match, timeout=timeout,
                                                       backend=radio.scanner)
    except Exception as e:
        if exits.no_adapter(e):
            raise exits.NoAdapter(exits.adapter_hint(radio, e)) from None
        raise
    return None if dev is None else (dev, seen[dev.address])


async def discover(radio, timeout, all_devices=False):
    """[(BLEDevice, AdvertisementData)] seen within `timeout` s, nearest first; glasses
    only unless all_devices. NoAdapter when the radio cannot scan."""
    from bleak import BleakScanner
    try:
        found = await BleakScanner.discover(
            timeout=timeout, return_adv=True, backend=radio.scanner,
            service_uuids=None if all_devices else [uuids.SERVICE])
    except Exception as e:
        if exits.no_adapter(e):
            raise exits.NoAdapter(exits.adapter_hint(radio, e)) from None
        raise
    return sorted(found.values(), key=lambda da: -da[1].rssi)
