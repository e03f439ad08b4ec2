"""Helpers for the voice path end to end over the rig (tests/test_voice_e2e.py and
bench/bench_voice_e2e.py): spoken queries in the test voice, what the
simulated speaker played (and what the playback was doing then), the project's own ASR to
transcribe it, and the checks that nothing is left over after a query."""
import array

import host_tools  # noqa: F401  (MicroPython mirrors for the firmware modules)
import asyncio
import datetime
import functools
import re

from firmware.voice.playback import LOCAL, STREAM
from host_tools.voice import numbers
from host_tools.voice.asr import Asr
from host_tools.voice.tts import Tts
from sim.linked import Linked

RATE = 16000


@functools.lru_cache(maxsize=1)
def tts():
    return Tts()


def speech(text):
    """The wearer saying text: the test voice (host_tools/voice/voices.py, not the phone's
    answering voice), silence trimmed so the end of the clip is the end of speech. The
    same samples every time, whatever was said before (eSpeak's are not)."""
    from host_tools.voice.voices import speak
    return speak(text)


_U = "one | two | three | four | five | six | seven | eight | nine"
ANSWERS_JSGF = """#JSGF V1.0;
grammar answers;
public <answer> = <time> | <battery> | <timer> | phone not reachable | <said>;
<time> = its <hour> [<minute>] <ampm>;
<hour> = one | two | three | four | five | six | seven | eight | nine | ten | eleven | twelve;
<digit> = %s;
<minute> = (oh | zero) <digit> | zero zero | ten | eleven | twelve | thirteen | fourteen |
    fifteen | sixteen | seventeen | eighteen | nineteen | (twenty | thirty | forty | fifty)
    [<digit>];
<ampm> = a m | p m;
<battery> = your glasses battery is at <number> percent [and charging];
<timer> = timer set for <number> (minute | minutes) | you have no timers running |
    your <number> minute timer has <number> (minute | minutes) [<number> (second | seconds)] left;
<said> = you have a new message from ana | your <number> minute timer is done;
%s""" % (_U, numbers.JSGF_RULES)


@functools.lru_cache(maxsize=1)
def answer_asr():
    """The project's ASR with a grammar of the answers the tests expect (any hour, minute,
    battery level, timer length), so a wrong number is heard as that wrong number."""
    return Asr(ANSWERS_JSGF, lambda text: True)


def transcribe(samples):
    pcm = bytes(8000) + array.array("h", samples).tobytes() + bytes(8000)
    return answer_asr().recognize(pcm, RATE)["text"]


_HOURS = {w: i + 1 for i, w in enumerate("one two three four five six seven eight nine ten "
                                         "eleven twelve".split())}


def spoken_time(text):
    """'its three zero seven p m' -> (15, 7); None if text is not a time."""
    m = re.match(r"its (\w+)(?: (.+?))? ([ap]) m$", text)
    if not m or m.group(1) not in _HOURS:
        return None
    h = _HOURS[m.group(1)] % 12 + (12 if m.group(3) == "p" else 0)
    minute = 0
    words = (m.group(2) or "").replace("oh ", "").replace("zero ", "").strip()
    if words and words != "zero":
        minute = numbers.to_int(words)
    return h, minute


class SpeakerTap:
    """Every frame the simulated speaker receives, with its time on the speaker (us) and
    what the glasses' playback was doing when it was written (stream, local, idle)."""

    def __init__(self, rig):
        self.rig = rig
        self.spk = rig.world.part("speaker")
        self.frames = []  # (t_us, samples, playback state)
        orig = self.spk.play

        def play(slot, samples, rate):
            st = self.spk._stream
            t0 = st.t0 if st is not None else 0
            pb = rig.glasses.app.voice.playback
            self.frames.append((t0 + slot * 1000000 // rate, array.array("h", samples),
                                pb.state))
            orig(slot, samples, rate)

        self.spk.play = play

    def mark(self):
        return len(self.frames)

    def stream(self, since=0):
        """(time of the first answer sample in s, answer samples) after mark `since`."""
        t = None
        out = array.array("h")
        for t_us, samples, state in self.frames[since:]:
            if state == STREAM and t is None:
                t = t_us / 1e6
            if t is not None and state != LOCAL:
                out.extend(samples)
        return t, out

    def local(self, since=0):
        out = array.array("h")
        for _, samples, state in self.frames[since:]:
            if state == LOCAL:
                out.extend(samples)
        return out


class VoiceRig:
    """A Linked rig with the voice host, a speaker tap, and helpers to speak to it."""

    def __init__(self, seed=5, config=None, voice_kw=None, **kw):
        cfg = {"voice_start": "vad"}  # these queries have no wake word (test_voice_wake.py)
        cfg.update(config or {})
        self.rig = Linked(seed=seed, config=cfg, voice_kw=voice_kw, **kw)
        self.world = self.rig.world
        self.loop = self.rig.loop
        self.tap = None

    async def start(self):
        await self.rig.start()
        await self.rig.phone.wait_open(30)
        self.tap = SpeakerTap(self.rig)
        senses = getattr(self.app, "senses", None)
        if senses is not None:  # the wear wiring unmutes the voice once it says worn
            await self.until(lambda: senses.wear.worn() and not self.voice.muted, 10)
        else:
            self.voice.mute(False)
        await asyncio.sleep(1.0)  # the microphone's VAD learns the room
        self.baseline = task_names(self.app)
        return self

    @property
    def app(self):
        return self.rig.glasses.app

    @property
    def voice(self):
        return self.rig.glasses.app.voice

    @property
    def host(self):
        return self.rig.voice

    def now(self):
        return self.loop.time()

    def phone_now(self):
        """The phone's wall clock (what "what time is it" answers), a naive datetime:
        in virtual time 2026-01-01 09:00 UTC plus the simulated time."""
        unix_s, offset_min = self.rig.local_time()
        t = datetime.datetime.fromtimestamp(unix_s + 60 * offset_min, datetime.timezone.utc)
        return t.replace(tzinfo=None)

    def say_to_mic(self, text_or_samples, label=None):
        """Play speech into the microphone now; returns (start s, end-of-speech s)."""
        s = speech(text_or_samples) if isinstance(text_or_samples, str) else text_or_samples
        t = self.now()
        self.world.part("mic").play(s, RATE, label=label or "speech")
        return t, t + len(s) / RATE

    async def until(self, cond, timeout_s=30.0, step_s=0.05):
        t = 0.0
        while not cond():
            if t >= timeout_s:
                raise AssertionError("not reached within %g s" % timeout_s)
            await asyncio.sleep(step_s)
            t += step_s

    async def idle(self, timeout_s=30.0):
        """Until the glasses are done (nothing streaming, asked or playing)."""
        v = self.voice
        await self.until(lambda: not v.busy() and not v.playback.busy(), timeout_s)
        await asyncio.sleep(0.1)

    def run(self, coro):
        return self.rig.run(coro)

    def close(self):
        self.rig.close()


def task_names(app):
    return sorted(t.name for t in app.sched.tasks if not t.done())


def assert_nothing_left(vr):
    """After a query: no task, call, job, buffer or state left over on either side."""
    app = vr.app
    v = vr.voice
    assert task_names(app) == vr.baseline, (task_names(app), vr.baseline)
    assert not app.link.offload.core.calls, app.link.offload.core.calls
    assert not app.link.offload.core._outq
    assert v.job is None and v.jobs.empty() and v.state == 0, v.status()
    cap, pb = v.capture, v.playback
    assert not cap.streaming and cap.unseen <= 1
    assert pb.state == 0 and not pb.jitter.active and pb.jitter.held == 0
    assert pb._ln == 0
    host = vr.host
    assert not vr.rig.phone.rpc.server.jobs, vr.rig.phone.rpc.server.jobs
    # utterances the phone heard but was not asked about (a tap with nothing said) are
    # kept a while, bounded, with no work running for them
    assert len(host.lives) <= 2 and all(lv.spec is None for lv in host.lives.values())
