# Notification model: validation with reasons, cutting with markers, the wire form, rules.
# CPython and MicroPython. Heap budget: 16 KB per test (measured below 8 KB).
from fwtest import raises

from firmware.notify import model as M
from firmware.notify import rules as R
from notify_helpers import fields, wire

HEAP_BUDGET = {}


def _reason(d):
    return raises(M.NotificationError, M.check, d).reason


def test_a_good_notification_round_trips_through_the_wire():
    d = fields("n1", actions=["Reply 'On my way'", "Dismiss"], asks="Join the call?")
    n, cuts = M.check(d)
    assert cuts == [] and n.priority == "normal" and n.prio == M.NORMAL
    n2, cuts2 = M.from_wire(n.to_wire())
    assert cuts2 == [] and n2.to_dict() == n.to_dict() == d


def test_missing_fields_each_named():
    for f in M.REQUIRED:
        d = fields("n1")
        del d[f]
        assert _reason(d) == "missing field '%s'" % f, f


def test_wrong_types_and_empty_values():
    assert _reason(fields(7)) == "field 'id' must be text, not int"
    assert _reason(fields("n1", title="")) == "field 'title' is empty"
    assert _reason(fields("n1", body=b"x")) == "field 'body' must be text, not bytes"
    assert "seconds since 1970" in _reason(fields("n1", ts=-5))
    assert "seconds since 1970" in _reason(fields("n1", ts="today"))
    assert "seconds since 1970" in _reason(fields("n1", ts=True))
    assert _reason(fields("n1", asks="")).startswith("field 'asks' is empty")
    assert _reason(fields("n1", actions="Reply")) == "field 'actions' must be a list of labels"
    assert _reason(fields("n1", actions=["ok", ""])).startswith("action 2 must be")
    assert _reason([1, 2]) == "a notification must be a map, not list"


def test_unknown_priority_category_and_field():
    r = _reason(fields("n1", priority="high"))
    assert r == "unknown priority 'high' (use urgent, normal, low)", r
    r = _reason(fields("n1", category="spam"))
    assert r.startswith("unknown category 'spam' (use message, call"), r
    d = fields("n1")
    d["prio"] = "low"
    assert _reason(d).startswith("unknown field 'prio' (fields: id, app,")


def test_identity_fields_too_long_are_refused_not_cut():
    assert _reason(fields("x" * 65)) == "field 'id' has 65 chars; the limit is 64"
    assert _reason(fields("n1", app="A" * 41)) == "field 'app' has 41 chars; the limit is 40"


def test_a_huge_body_is_cut_with_a_marker_never_dropped():
    body = "word " * 400  # 2000 chars
    n, cuts = M.check(fields("n1", body=body))
    assert len(n.body) <= M.LIMITS["body_chars"]
    assert n.body.startswith("word word")
    kept = n.body.index("…")
    cut = len(body) - kept
    assert n.body.endswith("…[cut %d chars]" % cut), n.body[-30:]
    assert cuts == ["body cut by %d chars" % cut]
    assert kept + len("…[cut %d chars]" % cut) == len(n.body) == M.LIMITS["body_chars"]


def test_the_limits_are_data():
    lim = dict(M.LIMITS)
    lim["body_chars"] = 40
    lim["actions"] = 1
    n, cuts = M.check(fields("n1", body="b" * 100, actions=["a", "b", "c"]), lim)
    assert len(n.body) == 40 and n.actions == ["a"]
    assert cuts == ["body cut by 75 chars", "actions: 3 given, the first 1 kept"], cuts


def test_too_many_actions_and_long_labels_are_cut_and_reported():
    acts = ["Reply 'On my way'", "Call back", "L" * 50, "Mute", "Archive"]
    n, cuts = M.check(fields("n1", actions=acts, title="T" * 150, asks="Q" * 130))
    assert n.actions == ["Reply 'On my way'", "Call back", "L" * 39 + "…"]
    assert len(n.title) == 100 and n.title.endswith("…") and len(n.asks) == 120
    assert cuts == ["title cut by 51 chars", "action 3 label cut by 11 chars",
                    "actions: 5 given, the first 3 kept", "asks cut by 11 chars"], cuts


def test_from_wire_ignores_unknown_keys_and_names_the_id_of_bad_ones():
    w = wire("n9")
    w[42] = "from a newer host"
    n, _ = M.from_wire(w)
    assert n.id == "n9"
    bad = wire("n9", priority="whenever")
    assert M.wire_id(bad) == "n9" and M.wire_id("junk") is None
    raises(M.NotificationError, M.from_wire, bad)
    assert raises(M.NotificationError, M.from_wire, 5).reason.startswith("a notification must")


def test_rules_are_checked_with_reasons():
    ok = R.check_rules({"quiet": [[1320, 420]], "apps": {"Bank": {"priority": "urgent"}}})
    assert ok["breakthrough"] == ["urgent"] and ok["dnd"] is False
    for bad, why in (
        ({"quiet": [[1320, 1440]]}, "quiet end must be a minute"),
        ({"quiet": [[60, 60]]}, "is empty"),
        ({"quiet": [5]}, "a quiet period is"),
        ({"dnd": 1}, "dnd must be"),
        ({"breakthrough": ["high"]}, "unknown priority 'high'"),
        ({"apps": {"Chat": {"silence": True}}}, "app Chat: unknown rule 'silence'"),
        ({"apps": {"Chat": {"mute": "yes"}}}, "app Chat: mute must be true or false"),
        ({"apps": {"Chat": {"priority": "top"}}}, "app Chat: unknown priority"),
        ({"sleep": True}, "unknown rule 'sleep'"),
        ("quiet", "rules must be a map"),
    ):
        e = raises(R.RulesError, R.check_rules, bad)
        assert why in str(e), (bad, str(e))


def test_quiet_periods_wrap_midnight():
    r = R.check_rules({"quiet": [[1320, 420], [780, 840]]})
    assert R.in_quiet(r, 1320) and R.in_quiet(r, 0) and R.in_quiet(r, 419)
    assert not R.in_quiet(r, 420) and not R.in_quiet(r, 1319)
    assert R.in_quiet(r, 800) and not R.in_quiet(r, 840)
    assert not R.in_quiet(r, None)  # no wall clock yet: no quiet hours


for _name in list(globals()):
    if _name.startswith("test_"):
        HEAP_BUDGET[_name] = 16384
