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


def test_a_quoted_value_is_one_word_and_an_apostrophe_a_letter():
    assert one('notify Lunch? app=Chat body="Are you free at noon?"') == {
        "title": "Lunch?", "app": "Chat", "body": "Are you free at noon?"}
    assert one('notify "Team standup" body="in 5 minutes"') == {
        "title": "Team standup", "body": "in 5 minutes"}
    assert one("say hey jarvis, what's the time") == {"words": "hey jarvis, what's the time"}
    # `glasses world notify Standup "body=in 5 minutes"`: the shell took the quotes off
    words = ["notify", "Standup", "body=in 5 minutes", "app=Calendar"]
    assert S.split_line(S.quote(words)) == words


def _doc_blocks(path, lang):
    """The fenced blocks of a Markdown file whose fence names `lang` ("" for none)."""
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    blocks, cur, name = [], None, None
    with open(os.path.join(root, path)) as f:
        for line in f:
            if line.startswith("```"):
                if cur is None:
                    cur, name = [], line[3:].strip()
                else:
                    if name == lang:
                        blocks.append("".join(cur))
                    cur = None
            elif cur is not None:
                cur.append(line)
    return blocks


def test_the_docs_examples_parse_and_every_event_is_documented():
    import json

    from sim import events
    sim_md = _doc_blocks("docs/simulator.md", "")
    line_example = next(b for b in sim_md if "put_on" in b and "notify" in b)
    sc = S.parse_text(line_example)
    assert [e.name for e in sc.events][:3] == ["put_on", "notify", "touch"]
    assert sc.events[1].values["body"] == "Are you free at noon?"
    js = _doc_blocks("docs/simulator.md", "json")[0]
    sc = S.parse_json(js)
    assert sc.events[1].values == {"title": "Lunch?", "app": "Chat",
                                   "body": "Are you free at noon?"}
    assert json.loads(js)[2]["args"] == "hey jarvis, what time is it"
    listing = next(b for b in sim_md if "take_off" in b and "bus_error" in b)
    assert listing.rstrip("\n") == events.help_text().rstrip("\n")  # the same as --help
    readme = _doc_blocks("README.md", "")
    S.parse_text(next(b for b in readme if "put_on" in b))  # the README's own scenario
