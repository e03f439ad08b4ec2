"""The assistant: what the wearer said (the open transcript and the recogniser's
confidence) -> one honest answer.

1. Below the confidence floor: "Sorry, I didn't catch that." (never a guess).
2. A registered intent matches the whole transcript (host_tools/voice/intents.py,
   builtin.py, plugins): its handler answers, with actions for the glasses.
3. Anything else goes to the configured chat backend (host_tools/voice/backend.py) with the
   transcript; without one the answer says what was heard and that it cannot answer that
   offline. Out-of-scope speech never becomes a command.
"""
import datetime

from host_tools.voice import parse

NOT_CAUGHT = "Sorry, I didn't catch that."


class Reply(dict):
    """{"answer": str, "actions": [dict], "intent": str}"""

    def __init__(self, answer, actions=(), intent=""):
        super().__init__(answer=answer, actions=list(actions), intent=intent)


class Context:
    """What the host knows about the wearer's world; the link keeps it updated (battery,
    timers and volume from the glasses' ask, notifications from the phone). now() is
    injectable for tests."""

    FIELDS = ("battery_pct", "charging", "notifications", "local_time", "last_answer",
              "timers", "volume")

    def __init__(self, now=None):
        self._now = now or datetime.datetime.now
        self.local_time = None  # (unix s, UTC offset min) the link last gave, or None
        self.battery_pct = None
        self.charging = False
        self.notifications = []  # newest last: {"app": .., "title": .., "text": ..}
        self.last_answer = ""
        self.timers = []  # [(seconds left, length s)] as the glasses said
        self.volume = None  # the glasses' speaker volume 0..10

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
            elif k == "timers":
                if not isinstance(v, (list, tuple)) or not all(
                        isinstance(t, (list, tuple)) and len(t) == 2 for t in v):
                    raise ValueError("timers must be [[seconds left, length], ...]")
                self.timers = [(int(a), int(b)) for a, b in v][:8]
            elif k == "volume":
                if v is not None and not (isinstance(v, int) and 0 <= v <= 10):
                    raise ValueError("volume must be 0..10, got %r" % (v,))
                self.volume = v
            else:
                raise ValueError("unknown context field %r" % k)


def default_registry():
    from host_tools.camera import intents as camera_intents
    from host_tools.voice import builtin
    from host_tools.voice.intents import Registry
    return camera_intents.register(builtin.register(Registry()))


class Assistant:
    def __init__(self, registry=None, context=None, backend=None, confidence_floor=0.3):
        self.registry = registry or default_registry()
        self.context = context or Context()
        self.backend = backend  # None: open questions are answered "not configured"
        self.confidence_floor = confidence_floor

    def answer(self, text, confidence=None):
        """Reply for one utterance. Never raises for what the user said."""
        if not isinstance(text, str):
            raise TypeError("assist: text must be a string")
        norm = parse.normalise(text)
        if not norm:
            reply = Reply(NOT_CAUGHT if text.strip() else "I didn't hear anything.",
                          intent="none")
        elif confidence is not None and confidence < self.confidence_floor:
            reply = Reply(NOT_CAUGHT, intent="unsure")
        else:
            intent, slots = self.registry.match(text)
            if intent is not None:
                reply = intent.handler(self.context, slots)
                reply["intent"] = intent.name
                reply["slots"] = {k: list(v) if isinstance(v, tuple) else v
                                  for k, v in slots.items()}
            elif self.backend is None:
                heard = text.strip().rstrip(".?!")
                if len(heard) > 100:
                    heard = heard[:100].rsplit(" ", 1)[0] + " ..."
                reply = Reply("I can't answer that offline: no answer service is "
                              "configured. I heard: %s." % heard, intent="fallback")
            else:
                reply = self.backend.ask(text)
                reply["intent"] = "backend"
        if reply["answer"] and reply["intent"] not in ("repeat", "unsure", "none"):
            self.context.last_answer = reply["answer"]
        return reply
