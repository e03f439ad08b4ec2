# Helpers for the notification tests (CPython and MicroPython).
import os

from firmware.notify.model import FIELDS, K_ACTIONS, K_APP, K_ASKS, K_BODY, K_CATEGORY
from firmware.notify.model import K_ID, K_PRIORITY, K_TITLE, K_TS
from firmware.notify.presentation import Presenter
from firmware.runtime.store import Store

_n = [0]
_KEY = {"id": K_ID, "app": K_APP, "title": K_TITLE, "body": K_BODY, "priority": K_PRIORITY,
        "category": K_CATEGORY, "actions": K_ACTIONS, "asks": K_ASKS, "ts": K_TS}


def fresh_store(capacity_bytes=0):
    _n[0] += 1
    base = "/tmp" if "tmp" in os.listdir("/") else "."
    root = "%s/notify_test_%d_%d" % (base, os.getpid() if hasattr(os, "getpid") else 0, _n[0])
    try:
        for f in os.listdir(root):
            os.remove(root + "/" + f)
    except OSError:
        pass
    return Store(root, capacity_bytes)


def fields(nid, **kw):
    d = {"id": nid, "app": "Chat", "title": "Hi", "body": "hello", "priority": "normal",
         "category": "message", "ts": 1700000000}
    d.update(kw)
    return d


def wire(nid, **kw):
    """A wire-format notification (integer keys); a value of None leaves the field out."""
    d = fields(nid, **kw)
    m = {}
    for k in FIELDS:
        if d.get(k) is not None:
            m[_KEY[k]] = d[k]
    return m


class Recorder:
    """The presenter's four callables, recording (kind, value) in order."""

    def __init__(self):
        self.calls = []
        self.p = Presenter(led=self.led, haptic=self.haptic, chime=self.chime,
                           speak=self.speak)

    def led(self, name):
        self.calls.append(("led", name))

    def haptic(self, name):
        self.calls.append(("haptic", name))

    def chime(self, name):
        self.calls.append(("chime", name))

    def speak(self, text):
        self.calls.append(("speak", text))

    def said(self):
        return [c[1] for c in self.calls if c[0] == "speak"]

    def of(self, kind):
        return [c[1] for c in self.calls if c[0] == kind]

    def clear(self):
        del self.calls[:]


def outcomes(replies):
    """[(id, outcome)] of wire replies."""
    return [(r[1], r[2]) for r in replies]
