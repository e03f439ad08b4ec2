"""Spoken numbers (one..ninety nine) <-> ints, and the JSGF rule that recognises them."""
import re

UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
         "seventeen", "eighteen", "nineteen")
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

_VALUE = {w: i + 1 for i, w in enumerate(UNITS)}
_VALUE.update({w: i + 10 for i, w in enumerate(TEENS)})
_TENS = {w: (i + 2) * 10 for i, w in enumerate(TENS)}
_VALUE.update({"a": 1, "an": 1})

# a number as words or digits, as the assistant's phrase patterns match it
PATTERN = (r"(?:\d{1,3}|(?:%s)(?:[ -](?:%s))?|%s|%s|an?)"
           % ("|".join(TENS), "|".join(UNITS), "|".join(TEENS), "|".join(UNITS)))


def to_int(text):
    """'five' -> 5, 'twenty five' -> 25, '12' -> 12; ValueError otherwise."""
    t = text.strip().lower().replace("-", " ")
    if t.isdigit():
        return int(t)
    words = t.split()
    if len(words) == 1:
        w = words[0]
        if w in _VALUE:
            return _VALUE[w]
        if w in _TENS:
            return _TENS[w]
    elif len(words) == 2 and words[0] in _TENS and words[1] in UNITS:
        return _TENS[words[0]] + _VALUE[words[1]]
    raise ValueError("not a number I know: %r" % text)


def to_words(n):
    if 1 <= n <= 9:
        return UNITS[n - 1]
    if 10 <= n <= 19:
        return TEENS[n - 10]
    if 20 <= n <= 99:
        t, u = divmod(n, 10)
        return TENS[t - 2] + ("" if u == 0 else " " + UNITS[u - 1])
    return str(n)


JSGF_RULES = ("<number> = <units> | <teens> | <tens> [<units>];\n"
              "<units> = %s;\n<teens> = %s;\n<tens> = %s;\n"
              % (" | ".join(UNITS), " | ".join(TEENS), " | ".join(TENS)))

_NUM_RE = re.compile("^" + PATTERN + "$")
