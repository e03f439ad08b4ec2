"""`glasses notify`: build a notification from arguments, validate it with the firmware's
own model, and send it: through the running host when there is one (`glasses host`,
`make sim`), else over BLE itself (--radio, $GLASSES_RADIO), as the other link commands
(host_tools/cli/linking.py). Sending is host_tools.notify.host.send_notification(phone,
**fields) with the validated fields; a build without it says so and exits 2. It prints
what was sent, what was cut and what came back. --dry-run only validates and prints the
notification as JSON. Exit codes: host_tools/errors.py (2 for bad input)."""
import json
import sys

from rich.console import Console

from host_tools import errors as exits
from host_tools.cli import linking, options, render


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
    options.link(s)
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


def run(args):
    from host_tools.notify.client import NotificationError
    from host_tools.phone import ops as link_ops
    try:
        note, cuts = build_from_args(args)
    except NotificationError as e:
        print("glasses notify: %s" % e.reason, file=sys.stderr)
        return exits.USAGE
    except OSError as e:
        print("glasses notify: cannot read the body: %s" % e, file=sys.stderr)
        return exits.USAGE
    if args.dry_run:
        print(json.dumps({"notification": note.to_dict(), "cut": cuts}, ensure_ascii=False,
                         indent=2))
        return exits.OK
    console = Console()
    try:
        link_ops.notify_sender()  # before linking: say so at once if it cannot be sent
    except exits.GlassesError as e:
        console.print("glasses notify: %s" % e.message, highlight=False)
        return e.exit_code

    async def body(link, console):
        result = await link.notify(note.to_dict(), args.timeout)
        console.print("sent %s %s%s: %s" % (
            note.id, link.via, " (cut: %s)" % ", ".join(cuts) if cuts else "",
            render.reply(result)), highlight=False)
        return exits.OK
    return linking.run_linked(args, body, console)
