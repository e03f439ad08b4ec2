"""What distributions take on disk, as installed here (bench_voice, bench_camera)."""
import os


def dist_bytes(dist):
    total = 0
    for f in dist.files or ():
        try:
            total += os.path.getsize(dist.locate_file(f))
        except OSError:
            pass
    return total


def closure(names):
    """{distribution: bytes installed} of names and everything they require (the
    requirements without extras, as installed here)."""
    import importlib.metadata as md
    from packaging.requirements import Requirement
    seen, todo = {}, list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen[name] = dist_bytes(dist)
        for r in dist.requires or ():
            req = Requirement(r)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen
