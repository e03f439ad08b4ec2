"""What the recogniser wrote, made matchable: lower case, no punctuation, contractions
spelled out, numbers as digits ("twenty five" -> "25", "6 p.m." -> "6 pm"), leading wake
words and politeness dropped. And the slot parsers the intents use: durations ("an hour
and a half" -> 5400 s) and clock times ("half past six in the evening" -> 18:30).
"""
import re

from host_tools.voice import numbers

_CONTRACTIONS = {
    "what's": "what is", "it's": "it is", "that's": "that is", "there's": "there is",
    "how's": "how is", "who's": "who is", "where's": "where is", "when's": "when is",
    "i'm": "i am", "you're": "you are", "we're": "we are", "they're": "they are",
    "i'd": "i would", "you'd": "you would", "i'll": "i will", "you'll": "you will",
    "i've": "i have", "don't": "do not", "doesn't": "does not", "didn't": "did not",
    "can't": "cannot", "won't": "will not", "isn't": "is not", "aren't": "are not",
    "let's": "let us", "o'clock": "oclock", "how'd": "how did",
}
_NUMBER_WORDS = set(numbers.UNITS) | set(numbers.TEENS) | set(numbers.TENS) | {"zero"}
_LEAD = re.compile(r"^(?:(?:hey|hi|ok|okay|yo)\s+)?(?:jarvis|jervis|travis|jarvus|service)\b\s*|"
                   r"^(?:hey|okay|ok|um|uh|so|well|and|please|alright|all right)\b\s*")
_POLITE = re.compile(r"^(?:(?:can|could|would|will) you(?: please)?|please|i want you to|"
                     r"i would like you to|i need you to|i want to|i would like to|"
                     r"i need to|go ahead and|let us|just)\b\s*")
_TAIL = re.compile(r"\s*\b(?:please|thanks|thank you|for me|now please|jarvis)$")


def normalise(text):
    """The transcript as the intents' templates see it."""
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    t = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", t)  # p.m. -> pm
    t = re.sub(r"(\d)[.:](\d\d)\b", r"\1:\2", t)  # 6.30 -> 6:30
    t = re.sub(r"\b(at|by) (1[0-2]|[1-9])([0-5]\d)\b", r"\1 \2:\3", t)  # at 730 -> at 7:30
    t = re.sub(r"(\d)\s*%", r"\1 percent", t)
    t = re.sub(r"[^a-z0-9':\- ]+", " ", t)
    t = t.replace("-", " ")
    words = []
    for w in t.split():
        w = w.strip("'")
        w = _CONTRACTIONS.get(w, w)
        if w.endswith("'s"):
            w = w[:-2] + "s"  # today's -> todays
        words.append(w.replace("'", ""))
    t = " ".join(_digits(" ".join(words).split()))
    for _ in range(3):  # "hey jarvis, okay, could you please ..."
        t2 = _POLITE.sub("", _LEAD.sub("", t))
        if t2 == t:
            break
        t = t2
    for _ in range(2):
        t = _TAIL.sub("", t)
    return t.strip()


def _digits(words):
    """Number words to digits: "twenty five" -> "25", "one hundred" -> "100"."""
    out = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in _NUMBER_WORDS:
            j = i + 1
            if w in numbers.TENS and j < len(words) and words[j] in numbers.UNITS:
                j += 1
            n = 0 if w == "zero" else numbers.to_int(" ".join(words[i:j]))
            if j < len(words) and words[j] == "hundred":
                n *= 100
                j += 1
            out.append(str(n))
            i = j
            continue
        out.append(w)
        i += 1
    return out


# ---- slots ---------------------------------------------------------------------------
_UNIT_S = {"second": 1, "seconds": 1, "sec": 1, "secs": 1, "minute": 60, "minutes": 60,
           "min": 60, "mins": 60, "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600}
_N = r"(?:\d+|a|an|one)"
_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)"
DURATION = (r"(?:half an hour|a half hour|an hour and a half|" + _N + r" and a half " + _UNIT +
            r"|" + _N + r" " + _UNIT + r"(?: and a half)?(?:(?: and)? " + _N + r" " + _UNIT +
            r")?|a quarter of an hour)")
_HOUR = r"(?:1[0-2]|0?[1-9]|1[3-9]|2[0-3])"
TIME = (r"(?:noon|midday|midnight|(?:half|quarter) (?:past|after|to) " + _HOUR +
        r"|" + r"\d{1,2}:\d\d(?: ?[ap]m)?|" + _HOUR + r"(?: \d\d)?(?: ?[ap]m| oclock)?)"
        r"(?: (?:in the (?:morning|afternoon|evening)|tonight|today|tomorrow))?")


def duration_s(text):
    """Seconds in a spoken duration; ValueError when it is not one."""
    t = text.strip()
    if t in ("half an hour", "a half hour"):
        return 1800
    if t == "an hour and a half":
        return 5400
    if t == "a quarter of an hour":
        return 900
    total = 0
    m = re.fullmatch(r"(" + _N + r") and a half (" + _UNIT + r")", t)
    if m:
        return int((_n(m.group(1)) + 0.5) * _UNIT_S[m.group(2)])
    parts = re.findall(r"(" + _N + r") (" + _UNIT + r")( and a half)?", t)
    if not parts:
        raise ValueError("not a duration: %r" % text)
    for n, unit, half in parts:
        total += (_n(n) + (0.5 if half else 0)) * _UNIT_S[unit]
    return int(total)


def _n(s):
    return 1 if s in ("a", "an", "one") else int(s)


def clock_time(text):
    """(hours, minute, day offset) of a spoken time: hours is a tuple of the clock hours
    it can mean (one with am/pm or a 24 h hour said, else the morning and the evening)."""
    t = text.strip()
    day = 1 if t.endswith("tomorrow") else 0
    part = None
    for p, key in (("morning", "am"), ("afternoon", "pm"), ("evening", "pm"),
                   ("tonight", "pm")):
        if t.endswith(p):
            part = key
    t = re.sub(r" (?:in the (?:morning|afternoon|evening)|tonight|today|tomorrow)$", "", t)
    if t in ("noon", "midday"):
        return (12,), 0, day
    if t == "midnight":
        return (0,), 0, day + 1
    m = re.fullmatch(r"(half|quarter) (past|after|to) (\d+)", t)
    if m:
        h = int(m.group(3))
        mins = 30 if m.group(1) == "half" else 15
        if m.group(2) == "to":
            h, mins = h - 1, 60 - mins
        return _hours(h % 24, part), mins, day
    m = re.fullmatch(r"(\d{1,2})(?::(\d\d)| (\d\d))?(?: ?([ap]m)| oclock)?", t)
    if not m:
        raise ValueError("not a time: %r" % text)
    h = int(m.group(1))
    mins = int(m.group(2) or m.group(3) or 0)
    if h > 23 or mins > 59:
        raise ValueError("not a time: %r" % text)
    return _hours(h, m.group(4) or part), mins, day


def _hours(h, part):
    if h > 12 or h == 0:
        return (h,)
    if part == "pm":
        return (h % 12 + 12,)
    if part == "am":
        return (h % 12,)
    return (h % 12, h % 12 + 12)


def seconds_until(when, now):
    """Seconds from `now` (a naive datetime) to the spoken time `when` (clock_time()'s):
    the soonest of the hours it can mean that is still ahead."""
    import datetime
    hours, m, day = when
    best = None
    for h in hours:
        target = now.replace(hour=h, minute=m, second=0, microsecond=0)
        target += datetime.timedelta(days=day)
        if target <= now:
            target += datetime.timedelta(days=1)
        if best is None or target < best:
            best = target
    return int((best - now).total_seconds())


def say_duration(seconds):
    """5400 -> "1 hour 30 minutes", 90 -> "1 minute 30 seconds"."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    parts = []
    for n, unit in ((h, "hour"), (m, "minute"), (s, "second")):
        if n:
            parts.append("%d %s%s" % (n, unit, "" if n == 1 else "s"))
    return " ".join(parts) or "0 seconds"


def say_length(seconds):
    """300 -> "5 minute" (as in "your 5 minute timer")."""
    return " ".join(w[:-1] if w.endswith("s") and not w[0].isdigit() else w
                    for w in say_duration(seconds).split())


def say_clock(h, m):
    """18:30 -> "6:30 PM"."""
    return "%d:%02d %s" % (h % 12 or 12, m, "AM" if h < 12 else "PM")
