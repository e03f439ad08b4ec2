"""`glasses notify`: build a notification from arguments, validate it with the firmware's
own model, and send it to the glasses: this command is the phone for the moment (a Phone
on --radio finds the glasses, connects, pairs or re-encrypts, sends, waits for the reply,
disconnects). It prints the notification, what was cut, and the glasses' reply as JSON;
exit 0 when delivered (accepted / cut / duplicate), 1 when the glasses refused or dropped
it, 2 for bad input or no radio / no glasses. --dry-run only validates and prints.

Through an already running host (the CLI plumbing of `glasses host`), the same send is
host_tools.notify.host.send_notification(phone, **fields)."""
import asyncio
import json
import sys

from host_tools import errors as exits


def register(sub):
    s = sub.add_parser("notify", help="send a notification to the glasses (or --dry-run)")
    s.add_argument("--app", required=True, help="the app it comes from, e.g. Chat")
    s.add_argument("--title", required=True)
    s.add_argument("--body", default="", help="the text (cut with a marker if too long)")
    s.add_argument("--body-file", metavar="PATH", help="read the body from a file (- = stdin)")
    s.add_argument("--priority", default="normal", help="urgent, normal or low")
    s.add_argument("--category", default="other",
                   help="message, call, calendar, reminder, email, social, system, other")
    s.add_argument("--action", dest="actions", action="append", default=[], metavar="LABEL",
                   help="an action label (repeat for more; the first is the double tap)")
    s.add_argument("--asks", help="a yes/no question answered by nod / shake")
    s.add_argument("--id", help="notification id (default: time-based)")
    s.add_argument("--ts", type=int, help="timestamp, seconds since 1970 (default: now)")
    s.add_argument("--dry-run", action="store_true", help="validate and print, send nothing")
    # --radio, --name, --timeout and sending (through a running host, or over BLE) come
    # from host_tools/cli/link.py, which extends this parser.
    s.set_defaults(fn=run)


def build_from_args(args):
    """(Notification, cuts) from parsed arguments; raises NotificationError."""
    from host_tools.notify.client import build
    body = args.body
    if args.body_file:
        if args.body_file == "-":
            body = sys.stdin.read()
        else:
            with open(args.body_file, encoding="utf-8") as f:
                body = f.read()
    return build(app=args.app, title=args.title, body=body, priority=args.priority,
                 category=args.category, actions=args.actions, asks=args.asks, id=args.id,
                 ts=args.ts)


def run(args, out=None, err=None):
    from host_tools.notify.client import NotificationError
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        note, cuts = build_from_args(args)
    except NotificationError as e:
        print("glasses notify: %s" % e.reason, file=err)
        return 2
    except OSError as e:
        print("glasses notify: cannot read the body: %s" % e, file=err)
        return 2
    doc = {"notification": note.to_dict(), "cut": cuts}
    if args.dry_run:
        print(json.dumps(doc, ensure_ascii=False, indent=2), file=out)
        return 0
    from host_tools.radio import open_radio
    try:
        radio = open_radio(args.radio)
    except exits.RadioSpecError as e:
        print("glasses notify: %s" % e, file=err)
        return 2
    try:
        reply = asyncio.run(_send_and_close(radio, note, args.name, args.timeout))
    except SendError as e:
        print("glasses notify: %s" % e, file=err)
        return 2
    doc["reply"] = {"id": reply.id, "outcome": reply.outcome, "detail": reply.detail}
    print(json.dumps(doc, ensure_ascii=False, indent=2), file=out)
    return 0 if reply.delivered else 1


class SendError(Exception):
    pass


async def _send_and_close(radio, note, name, timeout_s):
    try:
        return await send_once(radio, note, name=name, timeout_s=timeout_s)
    finally:
        await radio.close()


async def send_once(radio, note, name=None, timeout_s=30.0, clock=None):
    """Be the phone for one notification: connect to the glasses on `radio`, send `note`
    (a validated Notification), return their Reply. SendError when that cannot be done.
    clock: the session's clock (default: real time; the simulator passes its own)."""
    from host_tools.cli.ble import scan
    from host_tools.notify.host import attach
    from host_tools.phone.link import Phone
    scan_s = min(5.0, timeout_s)
    try:
        found = await scan(radio, scan_s)  # a clear error now rather than retries later
    except exits.NoAdapter as e:
        raise SendError(str(e)) from None
    except OSError as e:
        from host_tools.cli.ble import _adapter_hint
        raise SendError(_adapter_hint(radio, e)) from None
    names = [ad.local_name for _, ad in found]
    if not found or (name is not None and name not in names):
        raise SendError("%s not found within %s s (glasses seen: %s)"
                        % (name or "no glasses", scan_s, ", ".join(map(str, names)) or "none"))
    phone = Phone(radio, name=name, scan_timeout_s=scan_s, clock=clock)
    host = attach(phone)
    task = asyncio.ensure_future(phone.run())
    try:
        try:
            await asyncio.wait_for(_open_or_fail(phone, task), timeout_s)
        except asyncio.TimeoutError:
            why = phone.last_error or "no link"
            raise SendError("no link to %s within %s s (%s)"
                            % (name or "the glasses", timeout_s, why)) from None
        except SendError:
            raise
        except Exception as e:  # the phone gave up (a version mismatch, say)
            raise SendError("%s: %s" % (type(e).__name__, e)) from None
        try:
            reply = await host.send(note, timeout_s=timeout_s)
        except asyncio.TimeoutError:
            raise SendError("the glasses did not answer within %s s" % timeout_s) from None
        await asyncio.sleep(0.3)  # let the session acknowledge what came in
        return reply
    finally:
        phone.stop()
        task.cancel()
        try:
            await task
        except BaseException:  # cancelled, or what made it stop
            pass


async def _open_or_fail(phone, task):
    """Wait until the link is open; raise what ended phone.run() if it ended first."""
    opened = asyncio.ensure_future(phone.wait_open())
    try:
        done, _ = await asyncio.wait({opened, task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not opened.done():
            opened.cancel()
    if opened in done:
        return
    task.result()  # raises what stopped it
    raise SendError("the phone stopped: %s" % (phone.last_error or "no reason"))
