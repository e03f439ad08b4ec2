"""The events a scenario (sim/scenario.py) or `glasses world` can make happen, each with
the arguments it takes: checked before a run starts (a wrong one is refused with the
forms it accepts), then carried out on the world at its time.

EVENTS: name -> (parts the board must have, positional arguments, keywords, what it does).
An argument is (name, kind); a kind is a type (float, int), a tuple of accepted words,
WORDS (the rest of the line) or PART (a part of the board). A positional argument whose
name ends in "?" may be left out; any positional one may also be given as name=value.
"""
import os

WORDS = "words"  # the rest of the line
PART = "part"  # a part name of the board (imu, prox, gauge, mic, touch0, ...)
PRIORITIES = ("low", "normal", "urgent")

EVENTS = {
    "put_on": (("prox",), (), {}, "the wearer puts the glasses on (skin before the sensor)"),
    "take_off": (("prox",), (), {}, "the wearer takes them off (the mic closes, LEDs "
                 "signal waiting notifications)"),
    "tap": (("imu",), (), {"axis": ("x", "y", "z"), "g": float},
            "a knock on the frame (IMU tap engine): talk (touch a pad to read a notification)"),
    "double_tap": (("imu",), (), {"gap_ms": float, "axis": ("x", "y", "z"), "g": float},
                   "two knocks: the current notification's first action"),
    "nod": (("imu",), (), {"amp_deg": float, "freq_hz": float},
            "yes to a notification that asks"),
    "shake": (("imu",), (), {"amp_deg": float, "freq_hz": float},
              "no to a notification that asks"),
    "tilt": (("imu",), (), {"amp_deg": float, "freq_hz": float}, "the head tilts"),
    "touch": (("touch0",), (("pad?", ("front", "back")), ("seconds?", float)), {},
              "a finger on a pad for SECONDS (a tap: under 0.3 s; a long press: 0.8 s)"),
    "swipe": (("touch0", "touch1"), (("direction", ("forward", "back")),), {},
              "front pad then back (forward) or back then front: next / previous "
              "notification"),
    "speak": (("mic",), (("what?", str),), {"hz": float, "seconds": float},
              "a WAV file (relative to the scenario) or `tone` into the microphone"),
    "say": (("mic",), (("words", WORDS),), {},
            "speech into the microphone, by the test voice (not the answering voice); "
            "a query starts with the wake word: say hey jarvis, what time is it"),
    "notify": ((), (("title", WORDS),), {"app": str, "body": str, "priority": PRIORITIES,
                                         "category": str, "actions": str, "id": str},
               "a notification arrives from the phone (actions: comma-separated)"),
    "battery": ((), (("soc", float),), {}, "the battery's charge is set to SOC percent"),
    "charge": ((), (("state", ("on", "off")),), {}, "the charger is plugged in / out"),
    "drain": ((), (("ma", float),), {}, "an extra load of MA milliamps"),
    "lux": (("prox",), (("lux", float),), {}, "ambient light"),
    "fault": ((), (("part", PART), ("seconds?", float)), {},
              "a part stops answering (for SECONDS, else until recover)"),
    "bus_error": ((), (("part", PART), ("count?", int)), {}, "COUNT failed I2C transfers"),
    "recover": ((), (("part", PART),), {}, "a faulty part answers again"),
    "reset": ((), (), {}, "the reset button"),
    "photo": (("camera",), (("scene?", str),), {},
              "the wearer takes a photo (the board's photo gesture); SCENE: what the camera "
              "sees, a built-in scene (desk, street, park, sign, page, label) or an image file"),
    "scene": (("camera",), (("scene", str),), {},
              "the camera points at SCENE (as for photo) and nothing is taken: what a photo "
              "asked for by voice (say hey jarvis, read this) then shows"),
}


class EventError(ValueError):
    pass


def _form(arg, kind):
    if isinstance(kind, tuple):
        return "|".join(kind)
    return arg.upper() + ("..." if kind is WORDS else "")


def usage(name):
    """`battery SOC`, `touch [front|back] [SECONDS]`: how the event is written."""
    parts, pos, kw, _ = EVENTS[name]
    out = [name]
    for arg, kind in pos:
        if arg.endswith("?"):
            out.append("[%s]" % _form(arg[:-1], kind))
        else:
            out.append(_form(arg, kind))
    for k, kind in kw.items():
        out.append("[%s=%s]" % (k, "|".join(kind) if isinstance(kind, tuple) else
                                kind.__name__.upper() if isinstance(kind, type) else k))
    return " ".join(out)


def help_text():
    """Every event, its form and what it does (for --help and docs/simulator.md)."""
    lines = []
    for name in sorted(EVENTS):
        lines.append("  %s\n      %s" % (usage(name), EVENTS[name][3]))
    return "\n".join(lines)


def _value(where, name, arg, kind, text, parts):
    if kind is float or kind is int:
        try:
            return kind(text)
        except ValueError:
            raise EventError("%s: %s's %s must be a number, not %r (%s)"
                             % (where, name, arg, text, usage(name))) from None
    if isinstance(kind, tuple):
        if text not in kind:
            raise EventError("%s: %s's %s must be %s, not %r (%s)" % (
                where, name, arg, " or ".join(kind), text, usage(name)))
        return text
    if kind is PART:
        if parts is not None and text not in parts:
            raise EventError("%s: %s: no part %r on this board (parts: %s)" % (
                where, name, text, ", ".join(sorted(parts))))
        return text
    return text


def check(e, base_dir, parts=None):
    """Validate event e (its name, positional args and keywords; parts: the board's, to
    check part names); fills e.values {arg: value}. EventError says what is wrong."""
    if e.name not in EVENTS:
        raise EventError("%s: unknown event %r (events: %s)"
                         % (e.where, e.name, ", ".join(sorted(EVENTS))))
    if e.t < 0:
        raise EventError("%s: time must be >= 0 s" % e.where)
    _, pos, kw, _ = EVENTS[e.name]
    pos = [(arg.rstrip("?"), kind) for arg, kind in pos]
    values = {}
    args = list(e.args)
    for arg, kind in pos:
        if kind is WORDS:
            if args:
                values[arg] = " ".join(args)
                args = []
            continue
        if args:
            values[arg] = _value(e.where, e.name, arg, kind, args.pop(0), parts)
    if args:
        raise EventError("%s: %s takes %s, not %r (%s)" % (
            e.where, e.name, "no arguments" if not pos else "at most %d" % len(pos),
            " ".join(args), usage(e.name)))
    known = dict(pos)
    for k, v in e.kw.items():
        kind = kw.get(k, known.get(k))
        if kind is None:
            raise EventError("%s: %s has no %s= (%s)" % (e.where, e.name, k, usage(e.name)))
        values[k] = _value(e.where, e.name, k, kind, v, parts)
    e.values = values
    _needs(e, values, base_dir)


def _needs(e, v, base_dir):
    n = e.name
    if n in ("say", "notify") and not v.get("words" if n == "say" else "title"):
        raise EventError("%s: %s needs %s (%s)" % (
            e.where, n, "the words to speak" if n == "say" else "a title", usage(n)))
    if n in ("fault", "bus_error", "recover") and "part" not in v:
        raise EventError("%s: %s needs a part name (%s)" % (e.where, n, usage(n)))
    if n in ("charge", "battery", "drain", "lux", "swipe") and not v:
        raise EventError("%s: %s needs its argument (%s)" % (e.where, n, usage(n)))
    if n == "battery" and not 0 <= v["soc"] <= 100:
        raise EventError("%s: battery soc is 0..100, not %g" % (e.where, v["soc"]))
    if n == "scene" and not v.get("scene"):
        raise EventError("%s: scene needs a scene or image file (%s)" % (e.where, usage(n)))
    if n in ("photo", "scene") and v.get("scene"):
        from sim.scenes import TEXT
        if v["scene"] not in TEXT and not os.path.isfile(os.path.join(base_dir, v["scene"])):
            raise EventError("%s: %s: no scene or image file %r (scenes: %s)"
                             % (e.where, n, v["scene"], ", ".join(TEXT)))
    if n == "speak" and v.get("what", "tone") != "tone":
        path = os.path.join(base_dir, v["what"])
        if not os.path.isfile(path):
            raise EventError("%s: no such WAV file %s" % (e.where, path))
