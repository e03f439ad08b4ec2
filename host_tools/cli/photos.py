"""`glasses photos [list|pull|delete]`: the photos the glasses sent to this computer's
gallery (host_tools/camera: $GLASSES_GALLERY_DIR, else ~/Pictures/glasses; --gallery).
`list` (the default): each photo with when it was taken, its size and how; `pull NAME...
--to DIR` copies photos out of the gallery (`--all`: every one); `delete NAME...` removes
photos and their metadata. Photos come into the gallery by themselves whenever a host
runs (`glasses host`, `glasses sim`): the glasses keep them until then (docs/camera.md)."""
import os
import shutil
import time

from host_tools import config
from host_tools import errors as exits
from host_tools.camera.gallery import Gallery


def register(sub):
    p = sub.add_parser("photos", help="the photos from the glasses: list, pull, delete")
    p.add_argument("action", nargs="?", default="list", choices=("list", "pull", "delete"))
    p.add_argument("names", nargs="*", metavar="NAME", help="photos (as `list` names them)")
    p.add_argument("--gallery", default=None, help="the gallery folder (default: "
                   "$GLASSES_GALLERY_DIR or ~/Pictures/glasses)")
    p.add_argument("--to", default=".", help="pull: the folder to copy them to")
    p.add_argument("--all", action="store_true", dest="every", help="pull / delete: every photo")
    p.set_defaults(fn=run)


def _line(p):
    m = p.meta
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(p.taken)) if p.taken else "?"
    extra = " (time approximate)" if m.get("time_approximate") else ""
    how = m.get("by", "?")
    if m.get("ask"):
        how += ": %r" % m["ask"]
    return "%s  %s%s  %d KB  %sx%s  %s" % (p.name, when, extra, (m.get("bytes", 0) + 512) // 1024,
                                         m.get("w", "?"), m.get("h", "?"), how)


def run(args):
    g = Gallery(config.gallery_dir(args.gallery))
    photos = g.photos()
    if args.action == "list":
        for p in photos:
            print(_line(p))
        print("%d photo%s in %s" % (len(photos), "" if len(photos) == 1 else "s", g.root))
        return exits.OK
    names = [p.name for p in photos] if args.every else args.names
    if not names:
        print("glasses photos %s: name the photos (or --all)" % args.action)
        return exits.USAGE
    try:
        chosen = [g.find(n) for n in names]
    except KeyError as e:
        print("glasses photos: %s" % e.args[0])
        return exits.FAILED
    if args.action == "pull":
        os.makedirs(args.to, exist_ok=True)
        for p in chosen:
            shutil.copy2(p.path, os.path.join(args.to, p.name + ".jpg"))
            print("pulled %s -> %s" % (p.name, os.path.join(args.to, p.name + ".jpg")))
    else:
        for p in chosen:
            g.delete(p.name)
            print("deleted %s" % p.name)
    return exits.OK
