"""The phone's speech engines, each a Wyoming service in a process of its own
(host_tools/voice/workers.py), spoken to over Wyoming:

    sp = Speech(settings, compute)
    await sp.asr(pcm)           -> {"text", "confidence", "search": "whisper", ...}
    async for chunk in sp.tts(text): ...     16 kHz int16 PCM (resampled from Piper's 22,050)
    ws = sp.wake_stream(on_detect)           the wake-word model on a live utterance

The host's loop only moves bytes: the models run in the workers. Under the simulator's
virtual time (compute "model" or "measured", host_tools/voice/compute.py) the loop waits
for a worker with the clock frozen (VirtualTimeLoop.hold) and then sleeps, in virtual
time, what the work cost: the model's figure, or the worker process's CPU seconds.

A worker that dies in the middle of a job makes the job fail with WorkerDied (the ASR
retries once on a fresh worker: recognising is idempotent); the next job restarts it.
"""
import asyncio
import contextlib

from host_tools.voice import workers
from host_tools.voice.errors import SpeechError, Unavailable, WorkerDied
from host_tools.voice.resample import Resampler

RATE = 16000
CHUNK_BYTES = 6400  # 200 ms per audio-chunk event
# the cost model (compute "model", the simulator's default; measured on this machine
# with bench/bench_voice.py and rounded up): CPU seconds
ASR_S_PER_QUERY = 0.20  # on its 15 s window (asr_server.py): nearly flat below 14 s
ASR_S_PER_AUDIO_S = 0.01
TTS_S_PER_AUDIO_S = 0.12
WAKE_S_PER_AUDIO_S = 0.08  # openWakeWord (microWakeWord: 0.005)
LIGHT_ASR_S_PER_AUDIO_S = 0.10
_END = "end"  # the ping that closes a wake stream (the sync pings count frames)


@contextlib.contextmanager
def _nohold():
    yield


def cpu_delta(cpu0, cpu1):
    """CPU seconds a worker spent between two readings (None without both). A worker that
    was restarted in between counts from zero: its process's count started over (the
    difference would be negative)."""
    if cpu0 is None or cpu1 is None:
        return None
    return cpu1 - cpu0 if cpu1 >= cpu0 else cpu1


class Speech:
    def __init__(self, settings, compute):
        self.settings = settings
        self.compute = compute
        self.cpu = {"asr": 0.0, "tts": 0.0, "wake": 0.0}  # charged or measured CPU s
        self.restarts = 0

    def worker(self, kind):
        if self.settings.profile == "light" and kind in ("asr", "tts"):
            kind_w = "light"
        else:
            kind_w = kind
        self.settings.check(kind)
        return workers.worker_for(self.settings, kind_w)

    def _hold(self):
        if not self.compute.charge:
            return _nohold()
        hold = getattr(asyncio.get_running_loop(), "hold", None)
        return hold() if hold is not None else _nohold()

    async def _charge(self, kind, seconds):
        self.cpu[kind] += seconds
        self.compute.charged_s += seconds
        self.compute.spent[kind] += seconds
        if self.compute.charge and seconds > 0:
            await asyncio.sleep(seconds)

    async def _connect(self, w):
        from wyoming.client import AsyncClient
        await w.ready()
        c = AsyncClient.from_uri(w.uri)
        try:
            with self._hold():
                await c.connect()
        except OSError as e:
            w.died()
            raise WorkerDied("%s: cannot reach the %s worker at %s: %s"
                             % (w.kind, w.what, w.uri, e)) from None
        return c

    # ---- speech to text ----------------------------------------------------------------
    async def asr(self, pcm, rate=RATE, terms=None):
        """terms: phrases the recogniser should lean towards (Wyoming's transcript_terms:
        the commands' vocabulary)."""
        if rate != RATE:
            raise SpeechError("asr: audio must be %d Hz, got %r" % (RATE, rate))
        if len(pcm) < 3200:  # under 100 ms: nothing to recognise
            return {"text": "", "confidence": 0.0, "search": "none"}
        for attempt in (0, 1):
            w = self.worker("asr")
            try:
                return await self._asr_once(w, pcm, terms)
            except WorkerDied:
                w.died()
                self.restarts += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _asr_once(self, w, pcm, terms=None):
        from wyoming.asr import Transcribe, Transcript
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.error import Error
        self.compute.calls["asr"] += 1
        cpu0 = w.cpu_s()
        c = await self._connect(w)
        try:
            with self._hold():
                await c.write_event(Transcribe(language="en", transcript_terms=terms).event())
                await c.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
                for off in range(0, len(pcm), CHUNK_BYTES):
                    await c.write_event(AudioChunk(rate=RATE, width=2, channels=1,
                                                   audio=pcm[off:off + CHUNK_BYTES]).event())
                await c.write_event(AudioStop().event())
                while True:
                    ev = await c.read_event()
                    if ev is None:
                        raise WorkerDied("asr: the %s worker closed the connection before "
                                         "the transcript (it died?)" % w.what)
                    if Error.is_type(ev.type):
                        raise SpeechError("asr: %s" % Error.from_event(ev).text)
                    if Transcript.is_type(ev.type):
                        t = Transcript.from_event(ev)
                        break
        except (ConnectionError, asyncio.IncompleteReadError) as e:
            raise WorkerDied("asr: the %s worker went away: %s" % (w.what, e)) from None
        finally:
            with contextlib.suppress(Exception):
                await c.disconnect()
        res = dict(t.context or {})
        res["text"] = (t.text or "").strip()
        res.setdefault("confidence", None)  # an external service may not say
        res["search"] = "whisper" if self.settings.profile == "neural" else res.get(
            "search", "light")
        audio_s = len(pcm) / (2 * RATE)
        if self.compute.mode == "measured":
            cpu1 = w.cpu_s()
            d = cpu_delta(cpu0, cpu1)
            spent = res.get("cpu_s") if d is None else d
        elif self.settings.profile == "light":
            spent = LIGHT_ASR_S_PER_AUDIO_S * audio_s
        else:
            spent = ASR_S_PER_QUERY + ASR_S_PER_AUDIO_S * audio_s
        await self._charge("asr", spent or 0.0)
        return res

    # ---- text to speech ----------------------------------------------------------------
    async def tts(self, text):
        """16 kHz int16 PCM chunks of text as the worker sends them; SpeechError when the
        stream stops before its end (never a silent short answer)."""
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.error import Error
        from wyoming.tts import Synthesize
        text = (text or "").strip()
        if not text:
            return
        w = self.worker("tts")
        self.compute.calls["tts"] += 1
        c = await self._connect(w)
        rs = None
        n = 0
        try:
            cpu0 = w.cpu_s()
            with self._hold():
                await c.write_event(Synthesize(text=text).event())  # the server's own voice
            while True:
                with self._hold():
                    ev = await c.read_event()
                if ev is None:
                    w.died()
                    raise WorkerDied("tts: the %s worker closed the stream after %d chunks "
                                     "(it died?)" % (w.what, n))
                if Error.is_type(ev.type):
                    raise SpeechError("tts: %s" % Error.from_event(ev).text)
                if AudioStart.is_type(ev.type):
                    st = AudioStart.from_event(ev)
                    if st.width != 2 or st.channels != 1:
                        raise SpeechError("tts: the worker speaks %d-byte %d-channel audio; "
                                          "16-bit mono expected" % (st.width, st.channels))
                    rs = Resampler(st.rate, RATE) if st.rate != RATE else None
                elif AudioChunk.is_type(ev.type):
                    ch = AudioChunk.from_event(ev)
                    pcm = rs.process(ch.audio).tobytes() if rs is not None else ch.audio
                    await self._charge_tts(w, cpu0, len(ch.audio) / (2 * ch.rate))
                    cpu0 = w.cpu_s()
                    if pcm:
                        n += 1
                        yield pcm
                elif AudioStop.is_type(ev.type):
                    return
        except (ConnectionError, asyncio.IncompleteReadError) as e:
            w.died()
            raise WorkerDied("tts: the %s worker went away after %d chunks: %s"
                             % (w.what, n, e)) from None
        finally:
            with contextlib.suppress(Exception):
                await c.disconnect()

    async def _charge_tts(self, w, cpu0, audio_s):
        if self.compute.mode == "measured":
            cpu1 = w.cpu_s()
            spent = cpu_delta(cpu0, cpu1) or 0.0
        else:
            spent = TTS_S_PER_AUDIO_S * audio_s
        await self._charge("tts", spent)

    # ---- the wake word -----------------------------------------------------------------
    def wake_stream(self, on_detect):
        """A WakeStream for one live utterance, or None without a wake-word service (the
        light profile)."""
        if self.settings.profile == "light" and not self.settings.uri("wake"):
            return None
        return WakeStream(self, on_detect)


class WakeStream:
    """Audio of one utterance to the wake-word worker as it comes in. on_detect(name, ms)
    when it fires (ms of audio from the stream's start). Under virtual time every
    `sync_frames` frames a ping waits for the worker's verdict on what was sent, so a
    detection lands at the same virtual moment in every run. settle() waits for the
    verdict on all audio fed so far."""

    def __init__(self, speech, on_detect, sync_frames=5):
        self.speech = speech
        self.on_detect = on_detect
        self.sync_frames = sync_frames
        self.client = None
        self.reader = None
        self.detected = None  # (name, ms)
        self.not_detected = False
        self.ms = 0
        self.cpu_s = 0.0
        self.best = 0.0
        self.error = None
        self._pong = None
        self._frames = 0
        self._q = asyncio.Queue(maxsize=64)  # frames to send, bounded: a worker that
        self._sender = None                  # cannot keep up loses frames, not memory
        self.dropped = 0
        self.closed = False
        self._told = False

    def feed(self, pcm):
        """A 20 ms frame of the utterance (never blocks; sent by the stream's task)."""
        if self.closed or self.error is not None:
            return
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        try:
            self._q.put_nowait(pcm)
        except asyncio.QueueFull:
            self.dropped += 1

    async def _send_all(self):
        from wyoming.audio import AudioChunk, AudioStart
        from wyoming.ping import Ping
        from wyoming.wake import Detect
        sp = self.speech
        try:
            w = sp.worker("wake")
            self.client = await sp._connect(w)
            with sp._hold():
                await self.client.write_event(Detect(names=[sp.settings.wake_word]).event())
                await self.client.write_event(AudioStart(rate=RATE, width=2,
                                                         channels=1).event())
            self.reader = asyncio.get_running_loop().create_task(self._read_all())
            while True:
                pcm = await self._q.get()
                if pcm is None:
                    break
                if isinstance(pcm, asyncio.Future):  # settle(): the verdict so far
                    await self._sync(Ping, self._frames % self.sync_frames)
                    if not pcm.done():
                        pcm.set_result(None)
                    continue
                self.ms += len(pcm) // 32
                with sp._hold():
                    await self.client.write_event(AudioChunk(
                        rate=RATE, width=2, channels=1, audio=pcm, timestamp=self.ms).event())
                self._frames += 1
                if sp.compute.charge and self._frames % self.sync_frames == 0:
                    await self._sync(Ping)
        except (SpeechError, OSError, asyncio.IncompleteReadError) as e:
            self.error = "wake: %s" % e
        finally:
            self.closed = True

    async def settle(self, timeout_s=1.0):
        """Wait (at most timeout_s) until the worker has judged all audio fed so far: a
        detection it makes on that audio has been told by then."""
        if self.closed or self.error is not None or self._sender is None:
            return
        done = asyncio.get_running_loop().create_future()
        try:
            self._q.put_nowait(done)
        except asyncio.QueueFull:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), timeout_s)

    async def _sync(self, Ping, frames=None):
        self._pong = asyncio.get_running_loop().create_future()
        sp = self.speech
        with sp._hold():
            await self.client.write_event(Ping(text=str(self._frames)).event())
            await self._pong
        frames = self.sync_frames if frames is None else frames
        await sp._charge("wake", WAKE_S_PER_AUDIO_S * 0.02 * frames)
        if self.detected is not None and not self._told:
            self._told = True
            self.on_detect(*self.detected)

    async def _read_all(self):
        from wyoming.ping import Pong
        from wyoming.wake import Detection, NotDetected
        try:
            while True:
                ev = await self.client.read_event()
                if ev is None:
                    break
                if Detection.is_type(ev.type):
                    d = Detection.from_event(ev)
                    ctx = d.context or {}
                    self.cpu_s = ctx.get("cpu_s", self.cpu_s)
                    if self.detected is None:
                        self.detected = (d.name, d.timestamp or self.ms)
                        if not self.speech.compute.charge:
                            self.on_detect(*self.detected)
                        # in virtual time: told at the next sync point (_sync), the same
                        # virtual moment in every run
                elif NotDetected.is_type(ev.type):
                    ctx = NotDetected.from_event(ev).context or {}
                    self.cpu_s = ctx.get("cpu_s", self.cpu_s)
                    self.best = ctx.get("probability", self.best)
                    self.not_detected = True
                    break
                elif Pong.is_type(ev.type):
                    if Pong.from_event(ev).text == _END:  # the worker is done with it
                        break
                    if self._pong is not None and not self._pong.done():
                        self._pong.set_result(None)
        except (OSError, asyncio.IncompleteReadError) as e:
            self.error = "wake: the worker went away: %s" % e
        finally:
            if self._pong is not None and not self._pong.done():
                self._pong.set_result(None)

    async def close(self):
        """End the stream (audio-stop) and let go of the worker."""
        from wyoming.audio import AudioStop
        from wyoming.ping import Ping
        if self._sender is not None and not self._sender.done():
            with contextlib.suppress(asyncio.QueueFull):
                self._q.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sender, 5.0)
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.write_event(AudioStop().event())
                # after a detection the worker says nothing more: a ping marks the end
                await self.client.write_event(Ping(text=_END).event())
            if self.reader is not None:
                with contextlib.suppress(Exception):
                    with self.speech._hold():
                        await asyncio.wait_for(self.reader, 2.0)
            with contextlib.suppress(Exception):
                await self.client.disconnect()
        self.closed = True


__all__ = ["Speech", "WakeStream", "Unavailable", "SpeechError", "WorkerDied"]
