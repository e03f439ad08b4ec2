"""The scenario formats and the events' arguments (sim/scenario.py, sim/events.py): each
wrong argument refused with the forms the event accepts, before a run starts."""
import pytest

from sim import mirror

mirror.install()

from sim import scenario as S  # noqa: E402


def one(line):
    return S.parse_text("0 " + line).events[0].values


def test_positional_and_keyword_forms_mean_the_same():
    assert one("battery 15") == one("battery soc=15") == {"soc": 15.0}
    assert one("touch back 0.9") == {"pad": "back", "seconds": 0.9}
    assert one("fault imu") == {"part": "imu"}
    assert one("say what is the time") == {"words": "what is the time"}
    assert one("notify Lunch? app=Chat priority=urgent") == {
        "title": "Lunch?", "app": "Chat", "priority": "urgent"}


@pytest.mark.parametrize("line, why", [
    ("swipe sideways", "swipe's direction must be forward or back, not 'sideways'"),
    ("swipe", "swipe needs its argument (swipe forward|back)"),
    ("battery fifteen", "battery's soc must be a number, not 'fifteen'"),
    ("battery 150", "battery soc is 0..100"),
    ("charge maybe", "(charge on|off)"),
    ("tap hard", "tap takes no arguments, not 'hard'"),
    ("tap force=3", "tap has no force="),
    ("notify", "notify needs a title"),
    ("notify Hi priority=huge", "priority must be low or normal or urgent"),
    ("fault", "fault needs a part name (fault PART [SECONDS])"),
    ("tapp", "unknown event 'tapp'"),
])
def test_wrong_arguments_are_refused_with_the_accepted_forms(line, why):
    with pytest.raises(S.ScenarioError) as e:
        S.parse_text("0 " + line)
    assert why in str(e.value), str(e.value)


def test_json_args_may_be_one_string_of_words():
    sc = S.parse_json('[{"t": 1, "event": "say", "args": "what time is it"},'
                      ' {"t": 2, "event": "battery", "args": [20]},'
                      ' {"t": 3, "event": "swipe", "direction": "back"}]')
    assert [e.values for e in sc.events] == [{"words": "what time is it"}, {"soc": 20.0},
                                             {"direction": "back"}]
    with pytest.raises(S.ScenarioError, match="args"):
        S.parse_json('[{"t": 1, "event": "tap", "args": {"a": 1}}]')
