"""The intent registry: each intent is a name, example phrases (templates) and a handler.
A template matches a whole normalised transcript (host_tools/voice/parse.py) or nothing,
so speech that is not a command is never taken for one:

    "set a timer for {duration}"      {duration} {time} {number} {text} are slots
    "what (time|hour) is it [now]"    (a|b) one of, [x] optional

A plugin (GLASSES_VOICE_PLUGINS=pkg.mod; the module has register(registry)) adds one in
a few lines:

    def register(registry):
        @registry.intent("weather", ["what is the weather [like] [today]"])
        def weather(ctx, slots):
            return Reply("It's sunny.")

Handlers get the assistant's Context and the slots (durations in seconds, times as
parse.clock_time() tuples, numbers as ints, text as text) and return a Reply.
"""
import re

from host_tools.voice import parse

SLOTS = {"duration": parse.DURATION, "time": parse.TIME, "number": r"\d{1,3}",
         "text": r"[a-z0-9': ]+?"}
CLOSE = 0.5  # per-token log-probability: a hypothesis this near the best is as likely
_TOKEN = re.compile(r"\{(\w+)\}|\(|\)|\[|\]|\||[^\s()\[\]|{}]+")


def compile_template(template):
    """A template -> a compiled regex with named groups for its slots (a slot used twice
    is numbered: text, text2)."""
    out = []
    seen = {}
    stack = []
    for m in _TOKEN.finditer(template.lower()):
        tok = m.group(0)
        if m.group(1):
            name = m.group(1)
            if name not in SLOTS:
                raise ValueError("template %r: unknown slot {%s} (known: %s)"
                                 % (template, name, ", ".join(sorted(SLOTS))))
            seen[name] = seen.get(name, 0) + 1
            group = name if seen[name] == 1 else "%s%d" % (name, seen[name])
            out.append(r"(?P<%s>%s) " % (group, SLOTS[name]))
        elif tok == "(":
            stack.append(")")
            out.append("(?:")
        elif tok == "[":
            stack.append("]")
            out.append("(?:")
        elif tok in (")", "]"):
            if not stack or stack.pop() != tok:
                raise ValueError("template %r: unbalanced %s" % (template, tok))
            out.append(")" if tok == ")" else ")?")
        elif tok == "|":
            out.append("|")
        else:
            out.append(re.escape(parse.normalise(tok) or tok) + " ")
    if stack:
        raise ValueError("template %r: unclosed bracket" % template)
    return re.compile("^" + "".join(out) + "$")


def slot_values(groups):
    """Parsed slot values from a match's named groups; ValueError if one does not parse."""
    out = {}
    for k, v in groups.items():
        if v is None:
            continue
        v = v.strip()
        base = k.rstrip("0123456789")
        if base == "duration":
            out[k] = parse.duration_s(v)
        elif base == "time":
            out[k] = parse.clock_time(v)
        elif base == "number":
            out[k] = int(v)
        else:
            out[k] = v
    return out


SAMPLE = {"duration": "5 minutes", "time": "6 pm", "number": "5", "text": "call mom"}


def plain_phrase(template):
    """ "(set|start) a timer for {duration} [please]" -> "Set a timer for 5 minutes" """
    t = template
    while True:  # optional parts out, innermost first
        t2 = re.sub(r"\[[^\[\]]*\]", "", t)
        if t2 == t:
            break
        t = t2
    while True:  # an alternation -> its first choice
        t2 = re.sub(r"\(([^()|]*)(?:\|[^()]*)?\)", r"\1", t)
        if t2 == t:
            break
        t = t2
    t = " ".join(re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), ""), t).split())
    t = re.sub(r"\bi\b", "I", t)
    return t[:1].upper() + t[1:]


class Intent:
    def __init__(self, name, examples, handler, action=None):
        if not examples:
            raise ValueError("intent %r needs at least one example phrase" % name)
        self.name = name
        self.examples = tuple(examples)
        self.handler = handler  # handler(context, slots) -> Reply
        self.action = action  # what the intent does, for "what can you do"
        self._res = [compile_template(t) for t in self.examples]

    def match(self, norm):
        """The slots if the normalised text is one of the examples, else None."""
        for r in self._res:
            m = r.match(norm + " ")
            if m:
                try:
                    return slot_values(m.groupdict())
                except ValueError:
                    continue
        return None


class Registry:
    def __init__(self):
        self.intents = []

    def register(self, intent):
        if any(i.name == intent.name for i in self.intents):
            raise ValueError("intent %r is already registered" % intent.name)
        self.intents.append(intent)
        return intent

    def intent(self, name, examples, action=None):
        """Decorator: @registry.intent("name", ["template", ...]) def handler(ctx, slots)."""
        def deco(fn):
            self.register(Intent(name, examples, fn, action))
            return fn
        return deco

    add = intent  # the older name

    def match(self, text):
        """(intent, slots) for a transcript, or (None, None)."""
        norm = parse.normalise(text)
        if not norm:
            return None, None
        for i in self.intents:
            slots = i.match(norm)
            if slots is not None:
                return i, slots
        return None, None

    def pick(self, res):
        """The recogniser's result (res["alternatives"]: its hypotheses, best first, each
        {"text", "confidence", "avg_logprob"}) with the one to act on. Of the hypotheses
        within CLOSE of the best's per-token log-probability: the best when it is a
        command or none of them is; else the first that is one (the beam heard "Shift
        the volume to 10" a little more likely than "Set the volume to 10"). When they are
        different commands it is not clear which was said: confidence 0 (the assistant
        answers "Sorry, I didn't catch that") and "ambiguous" names them."""
        alts = res.get("alternatives") or []
        if len(alts) < 2:
            return res
        top = alts[0]["avg_logprob"]
        close = [(a, self.match(a["text"])[0]) for a in alts if top - a["avg_logprob"] <= CLOSE]
        names = sorted({i.name for _, i in close if i is not None})
        if len(names) > 1:
            return dict(res, confidence=0.0, ambiguous=names)
        for a, i in close:
            if i is not None:
                if a is alts[0]:
                    return res
                return dict(res, text=a["text"], confidence=a["confidence"],
                            heard=res.get("text"))
        return res

    def vocabulary(self):
        """One plain phrase per intent (its first example: first alternatives, no optional
        words, slots as sample values), for the recogniser to lean towards."""
        return [plain_phrase(i.examples[0]) for i in self.intents]

    def names(self):
        return [i.name for i in self.intents]

    def actions(self):
        return [i.action for i in self.intents if i.action]
