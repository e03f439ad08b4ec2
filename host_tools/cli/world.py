"""`glasses world EVENT [ARGS...]`: act on the simulated glasses of a running `make sim`
(or `glasses sim`) from another terminal: tap them, take them off, speak to them. The
event is a scenario line without its time (sim/scenario.py, docs/simulator.md); it goes
through the running host's control endpoint (host_tools/phone/control.py)."""
import asyncio
import sys

from host_tools import errors as exits


def register(sub):
    w = sub.add_parser("world", help="act on the running simulator's glasses: tap, say ...",
                       description="One event on the glasses of a running `make sim`, now: "
                       "`glasses world tap`, `glasses world say what time is it`, "
                       "`glasses world take_off`, `glasses world battery soc=12` (the "
                       "events of sim/scenario.py, without their time).")
    w.add_argument("event", nargs="+", help="the event and its arguments")
    w.set_defaults(fn=run)


def run(args):
    from host_tools.phone import control
    text = " ".join(args.event)
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
