# The presentation vocabulary (data) and the presenter, which turns a decision of the
# centre into calls of four small callables the app provides:
#   led(pattern_name)   haptic(pattern_name)   chime(chime_name)   speak(text)
# The drivers stay out: the LED and haptic players look the names up in
# firmware/outputs.py (LED / HAPTIC), the voice path synthesises the chimes by name, and
# speak(text) becomes the host's `tts` RPC (tts_request(text) is its request body).
from firmware.notify.model import LOW, NORMAL, URGENT
from firmware.outputs import HAPTIC, LED  # noqa: F401  (the patterns BY_PRIORITY names)

# Chimes the voice path synthesises on the glasses.
CHIMES = ("notification", "urgent", "message", "call", "reminder", "confirm", "dismiss",
          "error", "battery_low", "battery_critical")

# Spoken delivery modes. The policy: a normal notification says who and what ("App:
# Title"); a tap reads it out in full (title, then the body and the question it asks);
# urgent ones are read in full at once; low ones wait silently for a tap. With hints
# (the app gives TAP_HINTS: the first few times after a boot), "Tap to hear it." follows a
# title whose notification has more to say.
SPEAK_NONE = 0  # nothing said (read on tap)
SPEAK_TITLE = 1  # "App: Title" (the body on a tap)
SPEAK_FULL = 2  # "App: Title", then the body (and the question it asks)
HOW = ("chime and haptic", "title spoken", "read in full")  # per mode, in the log

# Per priority: (led while not worn, haptic, chime, speak) when presented.
BY_PRIORITY = {
    URGENT: ("waiting_urgent", "urgent", "urgent", SPEAK_FULL),
    NORMAL: ("waiting", "tick", "notification", SPEAK_TITLE),
    LOW: ("waiting_low", None, None, SPEAK_NONE),
}

# Per category: the chime used instead of "notification" (urgent keeps "urgent").
CHIME_BY_CATEGORY = {"message": "message", "call": "call", "calendar": "reminder",
                     "reminder": "reminder"}


def header(note):
    return "%s: %s" % (note.app, note.title)


def body_text(note):
    """What is spoken after the header: the body, then the question it asks."""
    t = note.body
    if note.asks:
        q = note.asks + " Nod for yes, shake for no."
        t = t + " " + q if t else q
    return t


def summary_text(n, urgent):
    if n == 1:
        s = "You have 1 notification"
    else:
        s = "You have %d notifications" % n
    if urgent:
        s += ", %d urgent" % urgent
    return s + "."


def tts_request(text):
    """Body of the host's `tts` RPC for one utterance."""
    return {"text": text}


TAP_HINTS = 3
TAP_HINT = "Tap to hear it."


class Presenter:
    def __init__(self, led=None, haptic=None, chime=None, speak=None, hints=0):
        self.led = led
        self.haptic = haptic
        self.chime = chime
        self.speak = speak
        self.led_now = "off"
        self.hints_left = hints

    def _led(self, name):
        if name != self.led_now:
            self.led_now = name
            if self.led is not None:
                self.led(name)

    def _say(self, text):
        if text and self.speak is not None:
            self.speak(text)

    def chime_for(self, note):
        c = BY_PRIORITY[note.prio][2]
        if c is None or note.prio == URGENT:
            return c
        return CHIME_BY_CATEGORY.get(note.category, c)

    def present(self, note, mode):
        """A notification arriving while worn: haptic, chime, then speech per `mode`."""
        h = BY_PRIORITY[note.prio][1]
        if h is not None and self.haptic is not None:
            self.haptic(h)
        c = self.chime_for(note)
        if c is None and mode != SPEAK_NONE:
            c = "notification"  # spoken by rule although its priority is silent: chime first
        if c is not None and self.chime is not None:
            self.chime(c)
        if mode == SPEAK_TITLE and self.hints_left > 0 and body_text(note):
            self.hints_left -= 1  # the body is a tap away: say so, the first few times
            self._say(header(note) + ". " + TAP_HINT)
        elif mode >= SPEAK_TITLE:
            self._say(header(note))
        if mode == SPEAK_FULL:
            self._say(body_text(note))

    def read(self, note):
        """Read a notification out on request (tap)."""
        self._say(header(note))
        self._say(body_text(note))

    def announce(self, note):
        """Say only which notification this is (navigating the queue)."""
        self._say(header(note))

    def waiting(self, prio):
        """LED while not worn: the pattern of the most important waiting notification
        (prio None: nothing waiting)."""
        self._led("off" if prio is None else BY_PRIORITY[prio][0])

    def say(self, text):
        self._say(text)

    def feedback(self, name):
        """confirm / dismiss: a chime and a haptic; nope / error: a haptic only."""
        if name in ("confirm", "dismiss"):
            if self.chime is not None:
                self.chime(name)
            name = "confirm"
        if self.haptic is not None:
            self.haptic(name)
