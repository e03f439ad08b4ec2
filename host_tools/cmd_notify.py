"""`glasses notify`: build a notification from arguments and validate it with the
firmware's own model. With --dry-run it is printed (JSON) with what had to be cut; sending
it over the link is added on top of host_tools.notifications.NotificationClient once the
link exists."""
import json
import sys


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
    s.set_defaults(fn=run)


def build_from_args(args):
    """(Notification, cuts) from parsed arguments; raises NotificationError."""
    from host_tools.notifications import build
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
    from host_tools.notifications import NotificationError
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
    if not args.dry_run:
        print("glasses notify: sending over the link is not wired yet; use --dry-run to "
              "check a notification", file=err)
        return 2
    print(json.dumps({"notification": note.to_dict(), "cut": cuts}, ensure_ascii=False,
                     indent=2), file=out)
    return 0
