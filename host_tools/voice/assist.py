"""The intent assistant: a registry of intents (time, date, battery, notifications,
timer, repeat, stop, and whatever a plugin registers), each with example phrases that
are both what the text matcher accepts and what the ASR grammar is built from.

Text that matches no intent goes to an optional backend: an OpenAI-compatible chat
endpoint the user configures (host_tools/voice/backend.py); off by default.
"""
import datetime
import re

from host_tools.voice import numbers

SLOT = "{number}"


class Reply(dict):
    """{"answer": str, "actions": [dict], "intent": str}"""

    def __init__(self, answer, actions=(), intent=""):
        super().__init__(answer=answer, actions=list(actions), intent=intent)


class Context:
    """What the host knows about the wearer's world; the link keeps it updated (battery
    service, notification centre). now() is injectable for tests."""

    def __init__(self, now=None):
        self._now = now or datetime.datetime.now
        self.local_time = None  # (unix s, UTC offset min) the link last gave, or None
        self.battery_pct = None
        self.charging = False
        self.notifications = []  # newest last: {"app": .., "title": .., "text": ..}
        self.last_answer = ""

    def now(self):
        """The wearer's local time: the phone's clock as the host last gave it (a simulated
        phone's clock follows the simulation), else this computer's."""
        if self.local_time is not None:
            unix_s, offset_min = self.local_time
            t = datetime.datetime.fromtimestamp(unix_s + 60 * offset_min, datetime.timezone.utc)
            return t.replace(tzinfo=None)
        return self._now()

    def update(self, fields):
        """Apply a dict from the link, e.g. {"battery_pct": 87, "charging": False}."""
        for k, v in (fields or {}).items():
            if k == "battery_pct":
                if v is not None and not (isinstance(v, (int, float)) and 0 <= v <= 100):
                    raise ValueError("battery_pct must be 0..100, got %r" % (v,))
                self.battery_pct = v
            elif k == "charging":
                self.charging = bool(v)
            elif k == "notifications":
                self.notifications = list(v)
            elif k == "local_time":
                if not (isinstance(v, (list, tuple)) and len(v) == 2
                        and all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
                    raise ValueError("local_time must be [unix seconds, UTC offset minutes], "
                                     "got %r" % (v,))
                self.local_time = (v[0], v[1])
            elif k == "last_answer":
                self.last_answer = str(v)
            else:
                raise ValueError("unknown context field %r" % k)


class Intent:
    def __init__(self, name, phrases, handler):
        if not phrases:
            raise ValueError("intent %r needs at least one example phrase" % name)
        self.name = name
        self.phrases = tuple(normalise(p) if SLOT not in p else p.lower() for p in phrases)
        self.handler = handler  # handler(context, slots) -> Reply
        self._res = [re.compile("^" + re.escape(p).replace(re.escape(SLOT),
                                                           "(?P<number>%s)" % numbers.PATTERN)
                                + "$") for p in self.phrases]

    def match(self, text):
        """slots dict if text (normalised) is one of the phrases, else None."""
        for r in self._res:
            m = r.match(text)
            if m:
                return m.groupdict()
        return None


def normalise(text):
    t = text.lower().replace("’", "'")
    t = re.sub(r"[^a-z0-9' -]+", " ", t)
    return " ".join(t.split())


class Registry:
    def __init__(self):
        self.intents = []

    def register(self, intent):
        if any(i.name == intent.name for i in self.intents):
            raise ValueError("intent %r is already registered" % intent.name)
        self.intents.append(intent)
        return intent

    def add(self, name, phrases):
        """Decorator: @registry.add("name", ["phrase", ...]) def handler(ctx, slots)."""
        def deco(fn):
            self.register(Intent(name, phrases, fn))
            return fn
        return deco

    def match(self, text):
        t = normalise(text)
        for i in self.intents:
            slots = i.match(t)
            if slots is not None:
                return i, slots
        return None, None

    def phrases(self):
        out = []
        for i in self.intents:
            out.extend(i.phrases)
        return out

    def jsgf(self):
        """A JSGF grammar accepting exactly the registered phrases."""
        alts = [p.replace(SLOT, "<number>") for p in self.phrases()]
        return ("#JSGF V1.0;\ngrammar intents;\npublic <command> = %s;\n%s"
                % (" | ".join(alts), numbers.JSGF_RULES))


# ---- the built-in intents ------------------------------------------------------------
def _time(ctx, slots):
    t = ctx.now()
    h = t.hour % 12 or 12
    return Reply("It's %d:%02d %s." % (h, t.minute, "AM" if t.hour < 12 else "PM"))


def _date(ctx, slots):
    t = ctx.now()
    return Reply("Today is %s, %s %d." % (t.strftime("%A"), t.strftime("%B"), t.day))


def _battery(ctx, slots):
    if ctx.battery_pct is None:
        return Reply("I don't know the battery level yet: the glasses have not reported it.")
    s = "Your glasses battery is at %d percent" % round(ctx.battery_pct)
    return Reply(s + (", and charging." if ctx.charging else "."))


def _notifications(ctx, slots):
    n = ctx.notifications
    if not n:
        return Reply("You have no notifications.", [{"type": "notifications_read"}])
    parts = ["You have %d notification%s." % (len(n), "" if len(n) == 1 else "s")]
    for item in list(reversed(n))[:3]:
        who = item.get("title") or item.get("app") or "someone"
        parts.append("From %s: %s" % (who, item.get("text", "").strip() or "no text"))
    if len(n) > 3:
        parts.append("And %d more." % (len(n) - 3))
    return Reply(" ".join(parts), [{"type": "notifications_read"}])


MAX_TIMER_MIN = 180


def _timer(ctx, slots):
    try:
        minutes = numbers.to_int(slots["number"])
    except ValueError:
        return Reply("I didn't catch how many minutes.")
    if not 1 <= minutes <= MAX_TIMER_MIN:
        return Reply("I can set timers from 1 to %d minutes." % MAX_TIMER_MIN)
    words = numbers.to_words(minutes)
    return Reply("Timer set for %s minute%s." % (words, "" if minutes == 1 else "s"),
                 [{"type": "timer", "seconds": minutes * 60}])


def _repeat(ctx, slots):
    if not ctx.last_answer:
        return Reply("There is nothing to repeat yet.")
    return Reply(ctx.last_answer)


def _stop(ctx, slots):
    return Reply("", [{"type": "stop"}])


def default_registry():
    r = Registry()
    r.register(Intent("time", ["what time is it", "what's the time", "tell me the time"],
                      _time))
    r.register(Intent("date", ["what is the date", "what's the date today", "what day is it"],
                      _date))
    r.register(Intent("battery", ["what is my battery level", "how much battery is left",
                                  "battery level"], _battery))
    r.register(Intent("notifications", ["read my notifications",
                                        "do i have any notifications"], _notifications))
    r.register(Intent("timer", ["set a timer for {number} minutes",
                                "set a timer for {number} minute",
                                "start a timer for {number} minutes"], _timer))
    r.register(Intent("repeat", ["repeat that", "say that again"], _repeat))
    r.register(Intent("stop", ["stop", "cancel", "never mind"], _stop))
    return r


class Assistant:
    def __init__(self, registry=None, context=None, backend=None):
        self.registry = registry or default_registry()
        self.context = context or Context()
        self.backend = backend  # None: open questions are answered "not configured"

    def answer(self, text):
        """Reply for one utterance. Never raises for what the user said."""
        if not isinstance(text, str):
            raise TypeError("assist: text must be a string")
        intent, slots = self.registry.match(text)
        if intent is not None:
            reply = intent.handler(self.context, slots)
            reply["intent"] = intent.name
        elif not normalise(text):
            reply = Reply("I didn't hear anything.", intent="none")
        elif self.backend is None:
            reply = Reply("I can only help with time, date, battery, notifications and "
                          "timers offline; no answer service is configured for other "
                          "questions.", intent="fallback")
        else:
            reply = self.backend.ask(text)
            reply["intent"] = "backend"
        if reply["answer"] and reply["intent"] not in ("repeat",):
            self.context.last_answer = reply["answer"]
        return reply
