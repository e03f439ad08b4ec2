"""Scenarios: timed events for the simulated glasses and the world around them.

Line format (one event per line, `#` comments):

    # seconds  event        arguments (positional, then key=value)
    1.0        put_on
    3.5        tap
    5          double_tap   gap_ms=220
    7          nod
    9          touch        front 0.3
    10         swipe        forward
    12         speak        hello.wav          # a 16-bit WAV, relative to this file
    12         speak        tone hz=440 seconds=1
    14         say          hey jarvis, what time is it    # in the test voice
    16         notify       Lunch? app=Chat body="Are you free at noon?"
    20         battery      soc=15
    21         charge       on
    22         drain        ma=150
    25         fault        imu 10             # stops answering for 10 s
    40         take_off

JSON: a list of {"t": seconds, "event": name, "args": [...], key: value...}.

Parameters a scenario leaves out (how hard a tap is, how far a nod goes) are drawn from
the run's seed, so the same seed replays the same run and another seed varies it.
"""
import json
import os
import random
import re

from sim import events as _events
from sim import world as _world


class ScenarioError(_events.EventError):
    pass


def _num(text, what):
    try:
        return float(text)
    except ValueError:
        raise ScenarioError("%s: %r is not a number" % (what, text)) from None


class Event:
    def __init__(self, t, name, args, kw, where):
        self.t = t
        self.name = name
        self.args = args
        self.kw = kw
        self.where = where

    def describe(self):
        parts = [self.name] + [str(a) for a in self.args]
        parts += ["%s=%s" % (k, v) for k, v in sorted(self.kw.items())]
        return quote(parts)


class Scenario:
    def __init__(self, events, base_dir="."):
        self.events = sorted(events, key=lambda e: e.t)
        self.base_dir = base_dir
        for e in self.events:
            _check(e, base_dir)

    def end_s(self):
        return self.events[-1].t if self.events else 0.0

    def schedule(self, glasses, seed):
        """Queue every event in the world's loop; parameters left open come from seed."""
        rng = random.Random(seed * 7919 + 17)
        w = glasses.world
        for e in self.events:
            w.call_at_us(int(e.t * 1e6), _apply, glasses, e, rng.random(), rng.random(),
                         self.base_dir)


_TOKEN = re.compile(r'[^\s=]+="[^"]*"|"[^"]*"|\S+')


def split_line(line):
    """The words of a scenario line; a double-quoted value is one word (key="a b c" or
    "a b"), quotes taken off. An apostrophe is a letter (say what's the time)."""
    out = []
    for tok in _TOKEN.findall(line):
        k, eq, v = tok.partition("=")
        if eq and len(v) >= 2 and v[0] == v[-1] == '"':
            tok = k + "=" + v[1:-1]
        elif len(tok) >= 2 and tok[0] == tok[-1] == '"':
            tok = tok[1:-1]
        out.append(tok)
    return out


def quote(words):
    """A scenario line's text for words that may hold spaces (split_line's inverse)."""
    out = []
    for w in words:
        if any(c.isspace() for c in w):
            k, eq, v = w.partition("=")
            w = '%s="%s"' % (k, v) if eq and " " not in k else '"%s"' % w
        out.append(w)
    return " ".join(out)


def parse_text(text, base_dir=".", source="scenario"):
    events = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = "%s line %d" % (source, n)
        fields = split_line(line)
        if len(fields) < 2:
            raise ScenarioError("%s: expected `SECONDS EVENT [ARGS]`, got %r" % (where, raw))
        t = _num(fields[0], where)
        args, kw = [], {}
        for f in fields[2:]:
            if "=" in f:
                k, v = f.split("=", 1)
                kw[k] = v
            else:
                args.append(f)
        events.append(Event(t, fields[1], args, kw, where))
    return Scenario(events, base_dir)


def parse_json(text, base_dir=".", source="scenario"):
    try:
        items = json.loads(text)
    except ValueError as e:
        raise ScenarioError("%s: not valid JSON: %s" % (source, e)) from None
    if not isinstance(items, list):
        raise ScenarioError("%s: expected a JSON list of events" % source)
    events = []
    for i, it in enumerate(items):
        where = "%s event %d" % (source, i)
        if not isinstance(it, dict) or "t" not in it or "event" not in it:
            raise ScenarioError("%s: needs \"t\" and \"event\"" % where)
        kw = {k: str(v) for k, v in it.items() if k not in ("t", "event", "args")}
        raw = it.get("args", [])
        if isinstance(raw, str):  # "args": "what time is it" is words, not characters
            raw = raw.split()
        if not isinstance(raw, list):
            raise ScenarioError("%s: \"args\" is a list (or one string of words)" % where)
        args = [str(a) for a in raw]
        events.append(Event(_num(str(it["t"]), where), it["event"], args, kw, where))
    return Scenario(events, base_dir)


def act_now(glasses, text, rng, base_dir="."):
    """One event now, written as a scenario line without its time ("tap", "say what time
    is it", "battery soc=15"): `glasses world` on a running `make sim`. Returns what was
    done; ScenarioError says what is wrong. rng draws what the event leaves open."""
    if not isinstance(text, str) or "\n" in text or "#" in text:
        raise ScenarioError("one event on one line, e.g. `tap` or `say what time is it`")
    sc = parse_text("0 " + text, base_dir, source="event")
    if len(sc.events) != 1:
        raise ScenarioError("event: expected `EVENT [ARGS]`, e.g. `tap` or `say what time "
                            "is it` (events: %s)" % ", ".join(sorted(EVENTS)))
    e = sc.events[0]
    _apply(glasses, e, rng.random(), rng.random(), base_dir)
    return _done(glasses.world, e)


def _done(w, e):
    """What `glasses world` prints: the event, and why nothing may come of it."""
    text = e.describe()
    if e.name == "say" and "prox" in w.parts and not w.part("prox").worn:
        text += ": but the glasses are not worn, so their microphone is off (put_on first)"
    return text


def load(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ScenarioError("cannot read scenario %s: %s" % (path, e.strerror)) from None
    base = os.path.dirname(os.path.abspath(path))
    src = os.path.basename(path)
    if text.lstrip().startswith("["):
        return parse_json(text, base, src)
    return parse_text(text, base, src)


# ---- the events (sim/events.py: what each takes) -------------------------------------------
EVENTS = _events.EVENTS


def _check(e, base_dir):
    try:
        _events.check(e, base_dir)
    except _events.EventError as err:
        raise ScenarioError(str(err)) from None
    if e.name == "say":
        words = e.values["words"]
        try:  # made now: a TTS that is missing is a clear error before the run, not in it
            _speech(words)
        except Exception as err:
            raise ScenarioError("%s: cannot speak %r: %s" % (e.where, words, err)) from None


def _kwf(e, key, default):
    v = e.values.get(key)
    return default if v is None else v


def _apply(glasses, e, r1, r2, base_dir):
    """Run one event now. r1, r2: seeded draws in [0, 1) for what the scenario leaves open."""
    w = glasses.world
    w.note("scn", e.describe())
    missing = [p for p in EVENTS[e.name][0] if p not in w.parts]
    if missing:
        w.note("scn", "skipped %s: this board has no %s" % (e.name, ", ".join(missing)))
        return
    try:
        _do(glasses, w, e, r1, r2, base_dir)
    except KeyError as err:
        w.note("scn", "skipped %s: %s" % (e.name, err.args[0]))


def _do(glasses, w, e, r1, r2, base_dir):
    n = e.name
    if n == "put_on":
        w.part("prox").put_on()
    elif n == "take_off":
        w.part("prox").take_off()
    elif n == "tap":
        w.part("imu").tap(axis=e.kw.get("axis", "y"), g=_kwf(e, "g", 1.5 + 1.5 * r1))
    elif n == "double_tap":
        w.part("imu").double_tap(gap_ms=_kwf(e, "gap_ms", 180 + 140 * r2),
                                 axis=e.kw.get("axis", "y"), g=_kwf(e, "g", 1.5 + 1.5 * r1))
    elif n in ("nod", "shake", "tilt"):
        base = {"nod": 15.0, "shake": 25.0, "tilt": 20.0}[n]
        getattr(w.part("imu"), n)(amp_deg=_kwf(e, "amp_deg", base * (0.7 + 0.6 * r1)),
                                  freq_hz=_kwf(e, "freq_hz", 1.6 + 0.8 * r2))
    elif n == "touch":
        pad = _pad(w, e.values.get("pad", "front"))
        pad.touch(_kwf(e, "seconds", 0.15 + 0.1 * r1))
    elif n == "swipe":
        order = ["front", "back"] if e.values["direction"] == "forward" else ["back", "front"]
        first, second = _pad(w, order[0]), _pad(w, order[1])
        first.touch(0.12)
        w.call_later_us(int((60 + 60 * r1) * 1000), second.touch, 0.12)
    elif n == "speak":
        mic = w.part("mic")
        what = e.values.get("what", "tone")
        if what == "tone":
            mic.play_tone(_kwf(e, "hz", 440.0), _kwf(e, "seconds", 1.0))
        else:
            mic.play_wav(os.path.join(base_dir, what))
    elif n == "say":
        text = e.values["words"]
        if "prox" in w.parts and not w.part("prox").worn:
            w.note("scn", "said %r, but the glasses are not worn: their microphone is off "
                          "(put_on first)" % text)
        w.part("mic").play(_speech(text), 16000, label="speech %r" % text)
    elif n == "notify":
        _notify(w, e.values)
    elif n == "battery":
        w.battery.set_soc(e.values["soc"])
    elif n == "charge":
        w.battery.set_charging(e.values["state"] == "on")
    elif n == "drain":
        w.power.set_adder("drain", e.values["ma"])
    elif n == "lux":
        w.part("prox").set_lux(e.values["lux"])
    elif n == "fault":
        part = w.part(e.values["part"])
        part.disconnect()
        if "seconds" in e.values:
            w.call_later_us(int(e.values["seconds"] * 1e6), part.reconnect)
    elif n == "bus_error":
        w.part(e.values["part"]).inject_bus_error(e.values.get("count", 1))
    elif n == "recover":
        w.part(e.values["part"]).reconnect()
    elif n == "reset":
        w.request_reset(_world.HARD_RESET, "reset button")
    elif n == "photo":
        _photo(w, e.values.get("scene"), base_dir)
    elif n == "scene":
        _point(w, e.values["scene"], base_dir)


def _point(w, scene, base_dir):
    """SCENE (a built-in scene, else an image file relative to the scenario) before the
    camera."""
    from sim.scenes import TEXT
    w.part("camera").set_scene(scene if scene in TEXT else os.path.join(base_dir, scene))


def _photo(w, scene, base_dir):
    """The board's photo gesture (DATA["options"]["photo_gesture"], "long_press back"),
    with SCENE before the camera first."""
    if scene:
        _point(w, scene, base_dir)
    gesture = w.data.get("options", {}).get("photo_gesture", "long_press back").split()
    if gesture[0] != "long_press" or len(gesture) != 2:
        raise KeyError("photo gesture %r is not one the simulator makes" % " ".join(gesture))
    _pad(w, gesture[1]).touch(1.0)


def _speech(text):
    """16 kHz speech for text in the test voice (host_tools/voice/voices.py: Piper's voice
    made another speaker, slower and higher than the phone's answering voice), leading and
    trailing silence cut so the clip ends where the speech does; the same every run."""
    from host_tools.voice.voices import speak  # only scenarios that speak need the engine
    return speak(text)


def _notify(w, v):
    """A notification from the phone, if the run has one (world.phone_notify: set by the
    simulator's host); else noted."""
    send = w.phone_notify
    if send is None:
        w.note("scn", "skipped notify: no phone in this run (--no-host)")
        return
    fields = {"title": v["title"], "app": v.get("app", "Phone")}
    for k in ("body", "priority", "category", "id"):
        if k in v:
            fields[k] = v[k]
    if v.get("actions"):
        fields["actions"] = [a.strip() for a in v["actions"].split(",") if a.strip()]
    send(fields)


def _pad(w, label):
    for name, p in w.parts.items():
        if name.startswith("touch") and getattr(p, "label", None) == label:
            return p
    raise KeyError("no touch pad %r on this board" % label)
