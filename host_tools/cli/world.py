"""`glasses world EVENT [ARGS...]`: act on the simulated glasses of a running `make sim`
(or `glasses sim`) from another terminal: tap them, take them off, speak to them, send a
notification from the phone. The event is a scenario line without its time (the events:
sim/events.py, docs/simulator.md); it goes through the running host's control endpoint
(host_tools/phone/control.py). `--help` lists every event (it reads sim/events.py then,
and only then: host_tools imports the simulator only in its own commands)."""
import argparse
import asyncio
import sys

from host_tools import errors as exits


class _HelpWithEvents(argparse.Action):
    def __init__(self, option_strings, dest, **kw):
        super().__init__(option_strings, dest, nargs=0, help="show this help and every event")

    def __call__(self, parser, namespace, values, option_string=None):
        from sim import events
        parser.print_help()
        print("\nevents (a scenario line without its time; docs/simulator.md):")
        print(events.help_text())
        parser.exit()


def register(sub):
    w = sub.add_parser("world", help="act on the running simulator's glasses: tap, say ...",
                       add_help=False,
                       description="One event on the glasses of a running `make sim`, now: "
                       "`glasses world tap`, `glasses world say hey jarvis, what time is it`, "
                       "`glasses world take_off`, `glasses world battery 15`, "
                       "`glasses world notify Lunch? app=Chat body=12:30?`.")
    w.add_argument("-h", "--help", action=_HelpWithEvents)
    w.add_argument("event", nargs="+", help="the event and its arguments")
    w.set_defaults(fn=run)


def run(args):
    from host_tools.phone import control
    from sim.scenario import quote  # body="in 5 minutes" stays one value
    text = quote(args.event)
    try:
        r = asyncio.run(control.request(control.socket_path(), "world", timeout_s=30,
                                        event=text))
    except exits.GlassesError as e:
        if e.message.startswith("no host is running"):
            e = exits.GlassesError(e.kind, "no simulator is running: start `make sim` first "
                                   "(%s)" % e.message)
        print("glasses world: %s" % e.message, file=sys.stderr)
        return e.exit_code
    print("done: %s" % r["done"])
    return exits.OK
