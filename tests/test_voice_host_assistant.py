"""The phone host's assistant, text in and text out (CPython only): its intents, numbers,
the phone's clock and context checks, and open questions going to the optional chat
backend (against a stand-in for a third-party service)."""
import pytest

from host_tools.voice.assist import Assistant, Context
from host_tools.voice.backend import BackendError, ChatBackend
from voice_host_util import NOW, ChatServer as _ChatServer


def test_intents_numbers_repeat_stop_and_notifications():
    ctx = Context(now=lambda: NOW)
    a = Assistant(context=ctx)
    assert a.answer("What day is it?")["answer"] == "Today is Wednesday, March 4."
    assert a.answer("set a timer for twenty five minutes")["actions"] == [
        {"type": "timer", "seconds": 1500}]
    assert a.answer("set a timer for 25 hours")["answer"].startswith("I can set timers")
    assert a.answer("repeat that")["answer"] == "I can set timers from one second to 24 hours."
    assert a.answer("What did you say?")["intent"] == "repeat"  # and "... just say"
    assert a.answer("what is my battery level")["answer"].startswith("I don't know")
    assert a.answer("read my notifications")["answer"] == "You have no notifications."
    ctx.update({"notifications": [{"app": "Messages", "title": "Ana", "text": "Running late"}]})
    assert a.answer("read my notifications")["answer"] == (
        "You have 1 notification. From Ana: Running late")
    assert a.answer("stop") == {"answer": "", "actions": [{"type": "stop"}], "intent": "stop",
                                "slots": {}}
    with pytest.raises(ValueError, match="battery_pct must be 0..100"):
        ctx.update({"battery_pct": 140})
    with pytest.raises(ValueError, match="unknown context field"):
        ctx.update({"mood": "fine"})


def test_of_the_recognisers_hypotheses_the_command_is_acted_on_unless_two_commands_compete():
    """intents.Registry.pick over the ASR's n-best ("alternatives", best first): these are
    the beam's hypotheses for eSpeak NG voices in the corpus."""
    reg = Assistant().registry

    def res(*alts):
        return {"text": alts[0][0], "confidence": alts[0][1], "alternatives": [
            {"text": t, "confidence": c, "avg_logprob": lp} for t, c, lp in alts]}
    # the best is no command, a close one is: that one, its own confidence
    r = reg.pick(res(("Shift the volume to 10.", 0.66, -0.41),
                     ("Set the volume to 10.", 0.6, -0.5)))
    assert (r["text"], r["confidence"], r["heard"]) == (
        "Set the volume to 10.", 0.6, "Shift the volume to 10.")
    # a command far less likely than the best is not taken
    far = res(("Shift the volume to 10.", 0.66, -0.41), ("Set the volume to 10.", 0.2, -1.6))
    assert reg.pick(far) == far
    # the best is a command: it stands, whatever the others are
    best = res(("Repeat that.", 0.7, -0.33), ("Repeat now.", 0.66, -0.4))
    assert reg.pick(best) == best
    # two different commands about as likely: no guess ("Sorry, I didn't catch that")
    r = reg.pick(res(("What can you do.", 0.75, -0.28), ("What can you say.", 0.63, -0.46),
                     ("What did you say?", 0.57, -0.56), ("What did you say.", 0.5, -0.7)))
    assert r["confidence"] == 0.0 and r["ambiguous"] == ["help", "repeat"], r
    assert Assistant().answer(r["text"], r["confidence"])["intent"] == "unsure"
    # the same two, the second far below the best: the best is acted on
    r = reg.pick(res(("What can you do.", 0.75, -0.28), ("What did you say?", 0.3, -1.2)))
    assert r["text"] == "What can you do." and r["confidence"] == 0.75
    # nothing is a command, or no alternatives (an external Wyoming ASR): as it came
    none = res(("Why are you good?", 0.63, -0.46), ("Wow, you're good.", 0.56, -0.57))
    assert reg.pick(none) == none
    assert reg.pick({"text": "stop", "confidence": 0.9}) == {"text": "stop", "confidence": 0.9}


def test_the_time_is_the_phone_clock_the_host_passes_on():
    ctx = Context(now=lambda: NOW)
    a = Assistant(context=ctx)
    assert a.answer("what time is it")["answer"] == "It's 3:07 PM."
    # 2026-01-01 09:00 UTC, the phone one hour east of UTC
    ctx.update({"local_time": [1767258000, 60]})
    assert a.answer("what time is it")["answer"] == "It's 10:00 AM."
    assert a.answer("what day is it")["answer"] == "Today is Thursday, January 1."
    for bad in (1767258000, [1767258000], ["9", 0], [True, 0]):
        with pytest.raises(ValueError, match="local_time must be"):
            ctx.update({"local_time": bad})
    assert a.answer("what time is it")["answer"] == "It's 10:00 AM."  # kept


def test_open_questions_go_to_the_configured_chat_endpoint():
    srv = _ChatServer()
    try:
        a = Assistant(backend=ChatBackend(srv.url, "tiny-llama", key="sk-test"))
        r = a.answer("How tall is the Eiffel tower?")
        assert r == {"answer": "You asked: How tall is the Eiffel tower?", "actions": [],
                     "intent": "backend"}
        path, headers, body = srv.requests[0]
        assert path == "/v1/chat/completions" and body["model"] == "tiny-llama"
        assert headers["Authorization"] == "Bearer sk-test"
        assert body["messages"][0]["role"] == "system"
        assert a.answer("what time is it")["intent"] == "time"  # intents stay local
        assert len(srv.requests) == 1
        srv.mode = "garbage"
        r = a.answer("why is the sky blue")
        assert "not a chat completion" in r["answer"]
        srv.mode = "500"
        r = a.answer("why is the sky blue")
        assert "answered HTTP 500" in r["answer"] and r["actions"][0]["type"] == "backend_error"
    finally:
        srv.close()


def test_backend_unreachable_or_not_configured_says_so():
    srv = _ChatServer()
    url = srv.url
    srv.close()  # nothing listens there any more
    r = Assistant(backend=ChatBackend(url, "m", timeout_s=2)).answer("who wrote hamlet")
    assert "is not reachable" in r["answer"] and url in r["answer"]
    assert ChatBackend.from_env({}) is None  # off by default
    b = ChatBackend.from_env({"GLASSES_LLM_URL": url, "GLASSES_LLM_MODEL": "m"})
    assert b.url == url + "/chat/completions"
    with pytest.raises(BackendError, match="GLASSES_LLM_MODEL is not"):
        ChatBackend.from_env({"GLASSES_LLM_URL": url})
    with pytest.raises(BackendError, match="must start with http"):
        ChatBackend("ftp://x", "m")
