# The notification model and its validation. Shared code: the glasses validate what they
# receive, and the host tools import this same module to refuse bad input before sending.
#
# A notification: id, app, title, body, priority, category, actions, asks, ts.
# check(fields) turns a map with text keys into a Notification and a list of what had to
# be cut; it raises NotificationError(reason) for what cannot be delivered. Nothing is
# dropped silently: an oversized body is cut with a marker that says how much went
# ("…[cut 1234 chars]"), extra actions are left out and reported.
#
# On the link a notification is a CBOR map with small integer keys (to_wire / from_wire).
# Unknown integer keys are ignored there (a newer host); unknown text keys are refused by
# check() (a typo in a host program).
from micropython import const

URGENT = const(0)
NORMAL = const(1)
LOW = const(2)
PRIORITIES = ("urgent", "normal", "low")  # index = rank, 0 the most important
CATEGORIES = ("message", "call", "calendar", "reminder", "email", "social", "system", "other")

# What the glasses can hold, per notification (characters, not bytes).
LIMITS = {
    "id_chars": 64,
    "app_chars": 40,
    "title_chars": 100,
    "body_chars": 500,  # ~35 s of speech
    "actions": 3,
    "action_chars": 40,
    "asks_chars": 120,
}

CUT_MARK = "…[cut %d chars]"
ELLIPSIS = "…"

# Wire keys.
K_ID = const(1)
K_APP = const(2)
K_TITLE = const(3)
K_BODY = const(4)
K_PRIORITY = const(5)
K_CATEGORY = const(6)
K_ACTIONS = const(7)
K_ASKS = const(8)
K_TS = const(9)
FIELDS = ("id", "app", "title", "body", "priority", "category", "actions", "asks", "ts")
_KEYS = (K_ID, K_APP, K_TITLE, K_BODY, K_PRIORITY, K_CATEGORY, K_ACTIONS, K_ASKS, K_TS)
REQUIRED = ("id", "app", "title", "priority", "category", "ts")


class NotificationError(ValueError):
    """A notification that cannot be delivered; .reason says why."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Notification:
    def __init__(self, id, app, title, body="", priority=NORMAL, category="other",
                 actions=None, asks=None, ts=0):
        self.id = id
        self.app = app
        self.title = title
        self.body = body
        self.prio = priority  # rank: URGENT / NORMAL / LOW
        self.category = category
        self.actions = actions if actions is not None else []
        self.asks = asks  # a yes/no question, answered by nod / shake
        self.ts = ts  # seconds since the Unix epoch, as the phone stamped it

    @property
    def priority(self):
        return PRIORITIES[self.prio]

    def to_dict(self):
        d = {"id": self.id, "app": self.app, "title": self.title, "body": self.body,
             "priority": self.priority, "category": self.category,
             "actions": list(self.actions), "ts": self.ts}
        if self.asks is not None:
            d["asks"] = self.asks
        return d

    def to_wire(self):
        m = {K_ID: self.id, K_APP: self.app, K_TITLE: self.title,
             K_PRIORITY: self.priority, K_CATEGORY: self.category, K_TS: self.ts}
        if self.body:
            m[K_BODY] = self.body
        if self.actions:
            m[K_ACTIONS] = list(self.actions)
        if self.asks is not None:
            m[K_ASKS] = self.asks
        return m

    def __repr__(self):
        return "<Notification %s %s %s>" % (self.id, self.priority, self.app)


def cut_text(s, limit, marker=True):
    """s cut to at most `limit` characters. With marker, the end says how many characters
    went ("…[cut N chars]"); else a single "…". Returns (text, chars_cut)."""
    n = len(s)
    if n <= limit:
        return s, 0
    if not marker:
        keep = limit - 1 if limit > 1 else 0
        return s[:keep] + ELLIPSIS, n - keep
    keep = limit
    for _ in range(3):  # the marker's length depends on the number it carries
        m = CUT_MARK % (n - keep)
        keep = limit - len(m)
    if keep < 0:
        keep = 0
    return s[:keep] + CUT_MARK % (n - keep), n - keep


def _text(d, name, required=True):
    v = d.get(name)
    if v is None:
        if required:
            raise NotificationError("missing field '%s'" % name)
        return None
    if not isinstance(v, str):
        raise NotificationError("field '%s' must be text, not %s" % (name, type(v).__name__))
    if not v and required:
        raise NotificationError("field '%s' is empty" % name)
    return v


def check(d, limits=None):
    """Validate a notification given as a map with text keys (FIELDS). Returns
    (Notification, cuts) where cuts lists, in words, what was shortened or left out."""
    lim = LIMITS if limits is None else limits
    if not isinstance(d, dict):
        raise NotificationError("a notification must be a map, not %s" % type(d).__name__)
    for k in d:
        if k not in FIELDS:
            raise NotificationError("unknown field %r (fields: %s)" % (k, ", ".join(FIELDS)))
    for k in REQUIRED:
        if d.get(k) is None:
            raise NotificationError("missing field '%s'" % k)
    cuts = []
    nid = _text(d, "id")
    if len(nid) > lim["id_chars"]:
        raise NotificationError("field 'id' has %d chars; the limit is %d"
                                % (len(nid), lim["id_chars"]))
    app = _text(d, "app")
    if len(app) > lim["app_chars"]:
        raise NotificationError("field 'app' has %d chars; the limit is %d"
                                % (len(app), lim["app_chars"]))
    title, n = cut_text(_text(d, "title"), lim["title_chars"], False)
    if n:
        cuts.append("title cut by %d chars" % n)
    body = _text(d, "body", False)
    if body is None:
        body = ""
    body, n = cut_text(body, lim["body_chars"])
    if n:
        cuts.append("body cut by %d chars" % n)
    p = d["priority"]
    if p not in PRIORITIES:
        raise NotificationError("unknown priority %r (use %s)" % (p, ", ".join(PRIORITIES)))
    prio = PRIORITIES.index(p)
    cat = d["category"]
    if cat not in CATEGORIES:
        raise NotificationError("unknown category %r (use %s)" % (cat, ", ".join(CATEGORIES)))
    actions = _actions(d.get("actions"), lim, cuts)
    asks = _text(d, "asks", False)
    if asks is not None:
        if not asks:
            raise NotificationError("field 'asks' is empty (leave it out if nothing is asked)")
        asks, n = cut_text(asks, lim["asks_chars"], False)
        if n:
            cuts.append("asks cut by %d chars" % n)
    ts = d["ts"]
    if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        raise NotificationError("field 'ts' must be seconds since 1970 (an integer >= 0), "
                                "not %r" % (ts,))
    return Notification(nid, app, title, body, prio, cat, actions, asks, ts), cuts


def _actions(v, lim, cuts):
    if v is None:
        return []
    if not isinstance(v, (list, tuple)):
        raise NotificationError("field 'actions' must be a list of labels")
    out = []
    for i in range(len(v)):
        a = v[i]
        if not isinstance(a, str) or not a:
            raise NotificationError("action %d must be a non-empty label, not %r" % (i + 1, a))
        if len(out) < lim["actions"]:
            a, n = cut_text(a, lim["action_chars"], False)
            if n:
                cuts.append("action %d label cut by %d chars" % (i + 1, n))
            out.append(a)
    if len(v) > lim["actions"]:
        cuts.append("actions: %d given, the first %d kept" % (len(v), lim["actions"]))
    return out


def from_wire(m, limits=None):
    """check() for a map with the link's integer keys."""
    if not isinstance(m, dict):
        raise NotificationError("a notification must be a map, not %s" % type(m).__name__)
    d = {}
    for i in range(len(_KEYS)):
        v = m.get(_KEYS[i])
        if v is not None:
            d[FIELDS[i]] = v
    return check(d, limits)


def wire_id(m):
    """The id of a (possibly invalid) wire notification, for the rejection reply."""
    if isinstance(m, dict):
        v = m.get(K_ID)
        if isinstance(v, str):
            return v
    return None
