# The voice service (firmware/voice/service.py) on the firmware scheduler in virtual
# time: microphone and speaker are I2S test doubles behind ports, the phone is the real
# RPC serving core (firmware/protocol/rpc_server.py) scripted by the test, reached through the
# real Offload client. Runs under CPython and MicroPython.
from fwtest import raises, run_chunks
from audio_signals import Speech, frame_buf, silence
from i2s_double import AudioWorld, MicI2S, SpeakerI2S

from firmware.runtime.observe import Emitter
from firmware.voice import capture as C
from firmware.voice import chimes, codec, packet as P
from firmware.voice.playback import PHRASE
from firmware.protocol import kinds
from firmware.protocol import rpc as R
from firmware.protocol.offload import Offload
from firmware.protocol.rpc_server import RpcServer
from firmware.runtime import sched as S
from firmware.runtime.clock import VirtualClock
from firmware.voice.service import Voice

# Peak heap per test under MicroPython: the capture ring (15 KB), the offline store (8 KB
# here), the jitter buffer (5 KB), the cached phrase (10 KB of data, plus compiling it from
# source: a board freezes it), the test's doubles and recordings.
FILE_HEAP_BUDGET = 184 * 1024  # imports included: voice and the RPC ends, from source
HEAP_BUDGET = {
    "test_an_utterance_is_asked_and_the_answer_played": 104000,
    "test_a_phone_error_plays_the_chime_and_the_phrase": 80000,
    "test_a_lost_link_keeps_the_query_and_asks_again_after_the_handover": 80000,
    "test_endpoint_hint_mute_talk_and_chimes": 72000,
}


class Source:
    """Microphone: quiet, then speech from `start` to `end` (world ms): the room goes on
    whether the microphone is open or not."""

    def __init__(self, world):
        self.world = world
        self.start = -1
        self.end = -1
        self.sp = Speech(seed=3, level=9000)

    def speak(self, frames):
        self.start = self.world.now + 40
        self.end = self.start + frames * 20

    def __call__(self, out):
        t = self.world.now
        buf = out if out is not None else frame_buf()
        if self.start <= t < self.end:
            self.sp.fill(buf)
        else:
            silence(buf)


class Port:
    """An I2S line as the board wires it: open() makes the double, close() drops it."""

    def __init__(self, make):
        self.make = make
        self.i2s = None
        self.opens = 0

    def open(self):
        if self.i2s is None:
            self.i2s = self.make()
            self.opens += 1
        return self.i2s

    def close(self):
        d = self.i2s
        if d is not None:
            d.handler = None
            d.world.devices.remove(d)
            self.i2s = None

    def is_open(self):
        return self.i2s is not None


class Led:
    def __init__(self):
        self.log = []

    def value(self, on):
        self.log.append(bool(on))


class Board:
    def __init__(self, world, src):
        self.mic = Port(lambda: MicI2S(world, src))
        self.speaker = Port(lambda: SpeakerI2S(world))
        self.privacy_led = Led()
        self.awake = []

    def stay_awake(self, reason, on=True):
        if on and reason not in self.awake:
            self.awake.append(reason)
        elif not on and reason in self.awake:
            self.awake.remove(reason)


class Session:
    def __init__(self):
        self.acks_in = 0

    def audio_room(self):
        return 8


class Link(Emitter):
    """The glasses' link service as the voice service uses it; RPC messages go to a real
    RpcServer through a pump task (one hop per 10 ms each way)."""
    EVENTS = ("up",)

    def __init__(self, sched, clock, serve):
        Emitter.__init__(self)
        self.up = True
        self.session = Session()
        self.sent = []  # audio packets (bytes)
        self.events = []
        self.routes = {}
        self.to_phone = []
        self.to_glasses = []
        self.offload = Offload(lambda m: self.to_phone.append(m) or True, clock=clock)
        self.server = RpcServer(lambda m: self.to_glasses.append(m) or True, serve)
        self.jobs = []

    def send_audio(self, pkt):
        if self.up:
            self.sent.append(bytes(pkt))
        return True

    def event(self, topic, payload=None):
        self.events.append((topic, payload))
        return True

    def route(self, kind, fn):
        self.routes[kind] = fn

    def acks(self):
        return self.session.acks_in

    def audio_room(self):
        return self.session.audio_room()

    def set_up(self, up):
        self.up = up
        self.emit("up", up)

    async def pump(self):
        while True:
            await S.sleep_ms(10)
            if not self.up:
                continue
            q = self.to_phone
            while q:
                self.server.handle(q.pop(0))
            q = self.to_glasses
            while q:
                self.offload.handle(q.pop(0))


class App:
    def __init__(self, config=None):
        self.clock = VirtualClock(7)
        self.world = AudioWorld(self.clock)
        self.sched = S.Scheduler(clock=self.clock, idle=self.world.idle)
        self.world.sched = self.sched
        self.log = self.sched.log
        self.src = Source(self.world)
        self.board = Board(self.world, self.src)
        self.config = {"voice_offline_bytes": 8192, "voice_start_muted": False,
                       "voice_start": "vad"}
        if config:
            self.config.update(config)
        self.latest = {"battery": (71.6, 3.9, False, 0)}
        self.status_sources = {}
        self.emitted = []
        self.jobs = []
        self.link = Link(self.sched, self.clock, self.jobs.append)
        self.sched.spawn(self.link.pump, name="pump", prio=S.PRIO_LINK)

    def on(self, topic, fn):
        pass

    def status(self, name, fn):
        self.status_sources[name] = fn

    def emit(self, topic, *args):
        self.emitted.append((topic, args))


def answer_packets(n, seq=500):
    """n 20 ms ADPCM packets of a chime-like tone, START on the first, END on the last."""
    out = []
    st = codec.State()
    buf = frame_buf()
    for i in range(n):
        chimes.render(chimes.START, buf, (i * 320) % chimes.length(chimes.START), 320)
        pkt = bytearray(P.HEADER_BYTES + codec.encoded_size(320))
        fl = (P.F_START if i == 0 else 0) | (P.F_END if i == n - 1 else 0)
        P.put_header(pkt, P.CODEC_ADPCM, fl, seq + i)
        codec.encode(st, buf, 320, pkt, P.HEADER_BYTES)
        out.append(bytes(pkt))
    return out


def run_for(app, ms, chunk_ms=400):
    return run_chunks(app.sched, ms, chunk_ms)


def serve(app, chunks):
    """Answer the oldest job with these chunks (as stream credit allows), then END."""
    job = app.jobs[0]
    srv = app.link.server
    i = 0
    for _ in range(400):
        while i < len(chunks) and srv.chunk(job, chunks[i]):
            i += 1
        if i >= len(chunks):
            break
        yield from run_for(app, 20, 20)
    assert i == len(chunks)
    assert srv.end(job)
    app.jobs.pop(0)


def live_tasks(app):
    return sorted([t.name for t in app.sched.tasks if not t.done()])


def idle_checks(app, v, baseline):
    assert live_tasks(app) == baseline, live_tasks(app)
    assert not app.link.offload.core.calls
    assert v.job is None and v.jobs.empty() and v.state == 0
    assert not v.capture.streaming and v.playback.state == 0
    assert not v.playback.jitter.active and v.playback.jitter.held == 0


def make(config=None):
    app = App(config)
    v = Voice(app, app.board.mic, app.board.speaker, app.board.privacy_led)
    v.start()
    baseline = live_tasks(app)
    return app, v, baseline


def test_an_utterance_is_asked_and_the_answer_played():
    app, v, baseline = make()
    assert app.board.mic.is_open() and "mic" in app.board.awake
    yield from run_for(app, 1000)
    app.src.speak(60)  # 1.2 s of speech
    yield from run_for(app, 2200)
    assert v.capture.utterances == 1 and v.capture.last_end == C.END_VAD
    assert len(app.jobs) == 1 and app.jobs[0].method == "ask"
    args = app.jobs[0].args
    pk = app.link.sent
    assert args["first"] == P.seq(pk[0]) and args["last"] == P.seq(pk[-1])
    assert P.flags(pk[0]) & P.F_START and P.flags(pk[-1]) & P.F_END
    assert args["why"] == "end" and args["battery"] == 71 and args["charging"] is False
    assert app.board.privacy_led.log == [True, False]
    assert v.state == 2  # thinking
    meta = {"text": "what time is it", "answer": "It's noon.", "intent": "time",
            "actions": [{"type": "timer", "seconds": 60}], "audio": {"gaps": 0}}
    yield from serve(app, [meta] + answer_packets(30))
    yield from run_for(app, 1500)
    assert v.answers == 1 and v.errors == 0 and v.heard == "what time is it"
    assert v.playback.jitter.played == 30 and v.playback.errors == 0
    assert app.emitted == [("voice_action", ({"type": "timer", "seconds": 60},))]
    assert v.status()["timers"] == 1
    spk = app.board.speaker
    assert spk.opens == 2  # the chimes; closed during the 2 s wait; the answer
    yield from run_for(app, 1200)  # nothing more to play: the amplifier is switched off
    assert not spk.is_open() and "speaker" not in app.board.awake
    idle_checks(app, v, baseline)


def test_a_phone_error_plays_the_chime_and_the_phrase():
    app, v, baseline = make()
    yield from run_for(app, 1000)
    app.src.speak(40)
    yield from run_for(app, 2000)
    assert len(app.jobs) == 1
    assert app.link.server.fail(app.jobs.pop(), R.HandlerError("asr failed: boom"))
    yield from run_for(app, 2000)
    assert v.errors == 1 and "asr failed: boom" in v.last_error
    assert v.playback.started[chimes.ERROR] == 1 and v.playback.started[PHRASE] == 1
    assert v.capture.store.state == 0  # not a link problem: nothing kept
    idle_checks(app, v, baseline)
    # a stream that stops: the first chunk never comes
    app.src.speak(40)
    yield from run_for(app, 2000)
    assert len(app.jobs) == 1
    yield from run_for(app, 10500)
    assert v.errors == 2 and "nothing from the phone for 10000 ms" in v.last_error
    app.link.server.handle({0: R.CANCEL, 1: app.jobs[0].id})  # (delivered by the pump too)
    app.jobs.pop()
    yield from run_for(app, 2000)
    assert v.playback.started[PHRASE] == 2
    idle_checks(app, v, baseline)


def test_a_lost_link_keeps_the_query_and_asks_again_after_the_handover():
    app, v, baseline = make()
    yield from run_for(app, 1000)
    app.src.speak(40)
    yield from run_for(app, 2000)
    assert len(app.jobs) == 1
    first, last = app.jobs[0].args["first"], app.jobs[0].args["last"]
    app.jobs.pop()
    n_sent = len(app.link.sent)
    app.link.set_up(False)  # the phone walks away while the glasses wait for the answer
    yield from run_for(app, 2000)
    assert v.errors == 1 and "link to the phone was lost" in v.last_error
    assert v.kept == 1 and v.capture.store.state == 2  # held
    assert v.playback.started[chimes.ERROR] == 1 and v.playback.started[PHRASE] == 1
    app.link.set_up(True)  # back: first the phone is told, and must acknowledge
    yield from run_for(app, 200)
    assert app.link.events[-1] == ("voice", {"held": first})
    assert len(app.link.sent) == n_sent  # not before the phone acknowledged
    app.link.session.acks_in += 1
    yield from run_for(app, 1000)
    again = app.link.sent[n_sent:]
    # the 8 KB store kept the query's first 48 packets (of 76), the last of them now END
    kept = v.capture.store.packets
    assert kept == 8192 // 170 and last - first + 1 > kept
    assert [P.seq(p) for p in again] == list(range(first, first + kept))
    assert P.flags(again[0]) & P.F_START and P.flags(again[-1]) & P.F_END
    assert app.board.privacy_led.log == [True, False, True, False]
    assert len(app.jobs) == 1 and app.jobs[0].args["why"] == "handover"
    assert (app.jobs[0].args["first"], app.jobs[0].args["last"]) == (first, first + kept - 1)
    yield from serve(app, [{"text": "x", "answer": "y"}] + answer_packets(5))
    yield from run_for(app, 800)
    assert v.answers == 1
    idle_checks(app, v, baseline)


def test_endpoint_hint_mute_talk_and_chimes():
    app, v, baseline = make()
    yield from run_for(app, 1000)
    app.src.speak(100)  # 2 s of speech; the phone says the command was whole after 1 s
    yield from run_for(app, 1000)
    assert v.capture.streaming
    app.link.routes[kinds.VOICE_ENDPOINT]({0: kinds.VOICE_ENDPOINT, 1: v.capture.first_seq + 1})
    assert v.capture.streaming and v.endpoints == 0  # another utterance's: ignored
    app.link.routes[kinds.VOICE_ENDPOINT]({0: kinds.VOICE_ENDPOINT, 1: v.capture.first_seq})
    yield from run_for(app, 100)
    assert not v.capture.streaming and v.capture.last_end == C.END_STOP and v.endpoints == 1
    assert len(app.jobs) == 1
    # taken off while waiting: the call is cancelled, no error sound, mic closed
    v.mute(True)
    yield from run_for(app, 500)
    assert not app.board.mic.is_open() and "mic" not in app.board.awake
    assert v.errors == 0 and v.playback.started[chimes.ERROR] == 0
    assert v.talk() == "muted" and not v.chime("end") and not v.say("hi")
    app.jobs.pop()
    idle_checks(app, v, baseline)
    # worn again, tap to talk, tap to stop
    v.mute(False)
    yield from run_for(app, 1500)  # the speech is over by now
    assert app.board.mic.is_open() and v.capture.utterances == 1
    assert v.talk() == "listen"
    yield from run_for(app, 300)
    assert v.capture.streaming and v.capture.tapped
    assert v.talk() == "stop"
    yield from run_for(app, 100)
    assert v.capture.last_end == C.END_STOP and len(app.jobs) == 1
    assert v.talk() == "stopped"  # a tap while waiting for the answer stops it
    yield from run_for(app, 300)
    assert not app.link.offload.core.calls and v.errors == 0
    app.jobs.pop()
    assert v.chime("notification") and v.chime("battery_low")
    e = raises(ValueError, v.chime, "doorbell")
    assert "unknown chime 'doorbell'" in str(e)
    yield from run_for(app, 1500)
    assert v.playback.started[chimes.NOTIFICATION] == 1
    assert v.playback.started[chimes.LOW_BATTERY] == 1
    idle_checks(app, v, baseline)
