# Delivery rules as data: quiet hours, do-not-disturb, what breaks through, per-app rules.
#
#   {
#     "quiet": [[1320, 420]],        # local minutes after midnight, [start, end); a start
#                                    # after the end wraps midnight (22:00-07:00)
#     "dnd": False,                  # do-not-disturb, switched by the user / the phone
#     "breakthrough": ["urgent"],    # priorities presented even in quiet hours / DND
#     "apps": {                      # per app (the notification's "app" field)
#       "Chat":  {"mute": True},               # never presented; the host is told
#       "Bank":  {"priority": "urgent"},       # priority override, applied first
#       "Mum":   {"always_speak": True},       # spoken in full whatever its priority
#     },
#   }
#
# check_rules() validates a rules map (from the host or from flash) and returns a fresh
# normalised copy; a bad one raises RulesError with the reason, and the old rules stay.
from firmware.notify.model import PRIORITIES

DEFAULT_RULES = {"quiet": [], "dnd": False, "breakthrough": ["urgent"], "apps": {}}
APP_RULE_KEYS = ("mute", "priority", "always_speak")
MAX_QUIET = 4
MAX_APPS = 32


class RulesError(ValueError):
    pass


def _minute(v, what):
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 1440:
        raise RulesError("%s must be a minute of the day 0..1439, not %r" % (what, v))
    return v


def check_rules(r):
    if not isinstance(r, dict):
        raise RulesError("rules must be a map")
    for k in r:
        if k not in DEFAULT_RULES:
            raise RulesError("unknown rule %r (rules: quiet, dnd, breakthrough, apps)" % (k,))
    out = {"quiet": [], "dnd": False, "breakthrough": ["urgent"], "apps": {}}
    q = r.get("quiet", [])
    if not isinstance(q, (list, tuple)) or len(q) > MAX_QUIET:
        raise RulesError("quiet must be a list of at most %d [start, end] pairs" % MAX_QUIET)
    for p in q:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise RulesError("a quiet period is [start_minute, end_minute], not %r" % (p,))
        s = _minute(p[0], "quiet start")
        e = _minute(p[1], "quiet end")
        if s == e:
            raise RulesError("quiet period %d-%d is empty" % (s, e))
        out["quiet"].append([s, e])
    dnd = r.get("dnd", False)
    if not isinstance(dnd, bool):
        raise RulesError("dnd must be true or false")
    out["dnd"] = dnd
    b = r.get("breakthrough", ["urgent"])
    if not isinstance(b, (list, tuple)):
        raise RulesError("breakthrough must be a list of priorities")
    for p in b:
        if p not in PRIORITIES:
            raise RulesError("breakthrough: unknown priority %r" % (p,))
    out["breakthrough"] = list(b)
    apps = r.get("apps", {})
    if not isinstance(apps, dict) or len(apps) > MAX_APPS:
        raise RulesError("apps must be a map of at most %d app rules" % MAX_APPS)
    for app in apps:
        rule = apps[app]
        if not isinstance(app, str) or not isinstance(rule, dict):
            raise RulesError("an app rule is \"app\": {mute, priority, always_speak}")
        clean = {}
        for k in rule:
            if k not in APP_RULE_KEYS:
                raise RulesError("app %s: unknown rule %r (use %s)"
                                 % (app, k, ", ".join(APP_RULE_KEYS)))
            v = rule[k]
            if k == "priority":
                if v not in PRIORITIES:
                    raise RulesError("app %s: unknown priority %r" % (app, v))
            elif not isinstance(v, bool):
                raise RulesError("app %s: %s must be true or false" % (app, k))
            clean[k] = v
        out["apps"][app] = clean
    return out


def in_quiet(r, minute):
    """Is `minute` (local, after midnight) inside a quiet period? None (no wall clock
    yet): no quiet hours apply."""
    if minute is None:
        return False
    for p in r["quiet"]:
        s = p[0]
        e = p[1]
        if s < e:
            if s <= minute < e:
                return True
        elif minute >= s or minute < e:
            return True
    return False


def app_rule(r, app):
    return r["apps"].get(app)


def breaks_through(r, prio):
    return PRIORITIES[prio] in r["breakthrough"]
