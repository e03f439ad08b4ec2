"""`glasses host`: be the glasses' phone until Ctrl-C.

Keeps the link up (reconnects with exponential backoff), serves the offload jobs of the
host plugins present in this build (host_tools/phone/plugins.py), and serves the control
endpoint so `glasses status/notify/logs/forget/connect` from another terminal go through
this process (host_tools/phone/control.py). On a terminal a live panel shows the link;
otherwise one line per event plus a summary line every --every seconds.
"""
import asyncio
import sys

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from host_tools import errors as exits
from host_tools.cli import linking, options


def register(sub):
    h = sub.add_parser("host", help="be the glasses' phone: keep the link, serve offload jobs",
                       description="Run the phone's role until Ctrl-C: keep the link to "
                       "the glasses up, serve their offloaded jobs, and let other `glasses` "
                       "commands reach them through this process.")
    options.radio(h)
    options.name(h)
    h.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    h.add_argument("--every", type=float, default=30.0, metavar="S",
                   help="without a terminal: a summary line every S seconds (default 30)")
    h.set_defaults(fn=run)


async def probe_radio(radio):
    """Fail early, with the adapter error, if the radio cannot be used at all."""
    if radio.virtual:
        await radio.adapter.open()
        return
    from bleak import BleakScanner
    scanner = BleakScanner()
    await scanner.start()
    await scanner.stop()


def run(args):
    console = Console()
    radio = linking.open_radio(args.radio, console, highlight=False)
    if radio is None:
        return exits.USAGE
    live = sys.stdout.isatty() and not args.plain
    return asyncio.run(host_main(radio, console, name=args.name, live=live, every_s=args.every))


async def host_main(radio, console, name=None, live=False, every_s=30.0, started=None):
    """Run the host until cancelled; returns the exit code. started(service, server) is
    called once it serves (tests)."""
    from host_tools.phone.control import ControlServer
    from host_tools.phone.service import HostService
    from host_tools.phone.view import link_table, one_line
    from host_tools.phone.link import Phone

    def say(text):
        console.print(text, highlight=False, markup=False)

    try:
        try:
            await probe_radio(radio)
        except Exception as e:
            err = exits.classify(e, radio)
            linking.error(console, err.message, highlight=False)
            return err.exit_code
        svc = HostService(lambda: Phone(radio, name=name, announce=lambda t: None),
                          announce=lambda t: say("host: " + t))
        server = ControlServer(svc)
        try:
            path = await server.start()
            say("control endpoint: %s (other `glasses` commands go through this host)" % path)
        except exits.EndpointBusy as e:
            server = None
            say("control endpoint: not served: %s" % e)
        say("host: looking for %s on the %s radio (Ctrl-C stops)" % (name or "glasses",
                                                                     radio.name))
        task = asyncio.ensure_future(svc.run())
        if started is not None:
            started(svc, server)
        try:
            if live:
                with Live(Panel(link_table(svc.snapshot()), title="glasses host"),
                          console=console, refresh_per_second=4) as lv:
                    while not task.done():
                        await asyncio.wait({task}, timeout=0.25)
                        lv.update(Panel(Group(link_table(svc.snapshot()), Text(
                            "\n".join(t for _w, t in list(svc.recent)[-6:]))),
                            title="glasses host"))
            else:
                while not task.done():
                    await asyncio.wait({task}, timeout=every_s)
                    if not task.done():
                        say(one_line(svc.snapshot()))
            await task
        except exits.GlassesError as e:
            linking.error(console, e.message, highlight=False)
            return e.exit_code
        finally:
            svc.stop()  # the phone hangs up; give it a moment before cutting it short
            await asyncio.wait({task}, timeout=2)
            if not task.done():
                task.cancel()
            try:
                await task
            except BaseException:
                pass
            if server is not None:
                await server.close()
        return exits.OK
    finally:
        await radio.close()
