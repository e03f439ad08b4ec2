# The presentation vocabulary is consistent data, and the presenter only calls the four
# callables it was given. CPython and MicroPython. Heap budget: 8 KB per test.
from firmware.notify import presentation as P
from firmware.notify.model import CATEGORIES, Notification, LOW, NORMAL, URGENT
from firmware.sense import battery
from notify_helpers import Recorder

HEAP_BUDGET = {}


def test_every_name_used_is_in_the_vocabulary():
    for prio in (URGENT, NORMAL, LOW):
        led, haptic, chime, speak = P.BY_PRIORITY[prio]
        assert led in P.LED and (haptic is None or haptic in P.HAPTIC)
        assert chime is None or chime in P.CHIMES
        assert speak in (P.SPEAK_NONE, P.SPEAK_TITLE, P.SPEAK_FULL)
    for cat in P.CHIME_BY_CATEGORY:
        assert cat in CATEGORIES and P.CHIME_BY_CATEGORY[cat] in P.CHIMES
    for name in ("confirm", "dismiss", "error", battery.CHIME_LOW, battery.CHIME_CRITICAL):
        assert name in P.CHIMES
    for name in ("confirm", "nope", "error"):
        assert name in P.HAPTIC
    for rgb, on_ms, off_ms, repeat in P.LED.values():
        assert 0 <= rgb <= 0xFFFFFF and on_ms >= 0 and off_ms >= 0 and repeat >= 0


def test_spoken_texts():
    n = Notification("1", "Cal", "Review", "At 10", NORMAL, "calendar", [], "Accept?")
    assert P.header(n) == "Cal: Review"
    assert P.body_text(n) == "At 10 Accept? Nod for yes, shake for no."
    n.body = ""
    assert P.body_text(n) == "Accept? Nod for yes, shake for no."
    assert P.summary_text(1, 0) == "You have 1 notification."
    assert P.summary_text(5, 2) == "You have 5 notifications, 2 urgent."
    assert P.tts_request("Hi") == {"text": "Hi"}


def test_a_presenter_without_callables_does_nothing_and_the_led_changes_only_on_change():
    n = Notification("1", "A", "T", "B", URGENT, "other")
    p = P.Presenter()
    p.present(n, P.SPEAK_FULL)
    p.read(n)
    p.feedback("confirm")
    p.waiting(URGENT)
    assert p.led_now == "waiting_urgent"
    r = Recorder()
    r.p.waiting(NORMAL)
    r.p.waiting(NORMAL)
    r.p.waiting(None)
    r.p.feedback("dismiss")
    r.p.feedback("nope")
    assert r.calls == [("led", "waiting"), ("led", "off"), ("chime", "dismiss"),
                       ("haptic", "confirm"), ("haptic", "nope")]


for _name in list(globals()):
    if _name.startswith("test_"):
        HEAP_BUDGET[_name] = 8192


def test_the_first_titles_say_a_tap_reads_the_rest():
    said = []
    p = P.Presenter(speak=said.append, hints=2)
    note = Notification("n1", "Chat", "Lunch?", body="12:30 at the usual place?")
    bare = Notification("n2", "Chat", "Hi")  # nothing more to hear: no hint
    p.present(note, P.SPEAK_TITLE)
    p.present(bare, P.SPEAK_TITLE)
    p.present(note, P.SPEAK_TITLE)
    p.present(note, P.SPEAK_TITLE)  # two hints given: the title alone from now on
    assert said == ["Chat: Lunch?. " + P.TAP_HINT, "Chat: Hi", "Chat: Lunch?. " + P.TAP_HINT,
                    "Chat: Lunch?"]
    p.read(note)
    assert said[-2:] == ["Chat: Lunch?", "12:30 at the usual place?"]
