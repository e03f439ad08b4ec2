"""The wake word on the phone: the glasses' VAD opens a stream flagged WAKE
(firmware/voice/packet.py F_WAKE) and the phone decides whether it is a query.

Each such utterance's audio goes to the wake-word worker as it arrives (WakeStream,
host_tools/voice/speech.py). When the model fires, the recogniser confirms it: Whisper,
prompted with the phrase, on the utterance up to VERIFY_TAIL_MS after the detection must
hear the word (Engines.wake_said; a second stage, as a cloud assistant verifies its
devices' wake word). The detector fires on near misses ("hey Travis", "hey Charlie"); the
recogniser hears those as what they are. Confirmed, the phone tells the glasses
(VOICE_ENDPOINT what=2: they play the start chime, and stop an answer that is playing:
barge-in) and the query is the audio after the wake word. When the phone's end-pointer
hears the speech end (250 ms of quiet) with no wake word, or MAX_SPEECH_S of speech pass
without one, or the recogniser does not confirm it, it tells the glasses to drop the
stream (what=3): within 300 ms of the end of speech, so the microphone streams no longer
than it must.

Its own voice: the phone knows what it is playing. An answer whose own audio makes the
wake-word model fire (it says the wake phrase) marks the time it plays as deaf
(`deaf_until`): a detection then is taken for the glasses hearing their own speaker.
"""
import asyncio
import contextlib

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.protocol import kinds
from firmware.protocol.channels import EVENTS

WHAT_END = 1  # VOICE_ENDPOINT field 3: the command is whole
WHAT_WAKE = 2  # the wake word was heard: it is a query
WHAT_DROP = 3  # no wake word: drop the stream
MAX_SPEECH_S = 4.0  # a wake word comes first: this much speech without one is not a query
VERIFY_TAIL_MS = 200  # audio after the detection the recogniser hears (the word's end)
VERIFY_WAIT_S = 1.0  # at most this long for that audio to arrive
CONFIRM_WAIT_S = 0.5  # then the word is taken; a "no" after it leaves the query unanswered
QUERY_BACK_MS = 300  # the query starts this long before the detection (it fires late on
# quick speech: into the query's first word); the recogniser's "Jarvis," is taken off
# (engines.without_wake_word)
_closing = set()  # wake streams' close() tasks, until they end


def query_start(heard_ms):
    """Where the query starts in the utterance's 16 kHz int16 audio (a byte offset) for a
    wake word detected at heard_ms."""
    return max(0, heard_ms - QUERY_BACK_MS) * 32


class Wake:
    """The wake-word state of one live utterance (host_tools/voice/endpoint.py Live)."""

    def __init__(self, host, live):
        self.host = host
        self.live = live
        self.heard_ms = None  # ms of audio from the stream's start where the model fired
        self.dropped = False
        self.verifying = None  # the task confirming a detection
        self.rejected = False  # taken before the recogniser said no (a busy phone)
        self._settling = None  # the task waiting for the detector's verdict at a quiet
        self._more = asyncio.Event()  # set as audio arrives
        self._quiet = False
        self.stream = host.engines_wake(self._on_detect) if host.engines_wake else None
        self.t_start = asyncio.get_running_loop().time()
        self.t_detect = None
        self.t_drop = None
        self.speech_end = None  # loop time of the quiet point that decided a drop

    @property
    def decided(self):
        return self.heard_ms is not None or self.dropped

    def feed(self, frame):
        self._more.set()
        if self.stream is not None and not self.decided and self.verifying is None:
            self.stream.feed(frame)
        if (not self.decided and self.stream is not None and self.verifying is None and
                len(self.live.frames) * 0.02 > MAX_SPEECH_S):
            self.drop("no wake word in %.0f s of speech" % MAX_SPEECH_S)

    def _on_detect(self, name, ms):
        if self.decided or self.verifying is not None:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self.host.deaf_until:
            self.host.note("wake word %s heard while the glasses play an answer that says "
                           "it: taken for their own voice" % name)
            return
        if self.host.wake_said is None:
            self._heard(name, ms)
        else:
            self.verifying = loop.create_task(self._verify(name, ms))

    async def _verify(self, name, ms):
        loop = asyncio.get_running_loop()
        upto = ms + VERIFY_TAIL_MS
        deadline = loop.time() + VERIFY_WAIT_S
        while (len(self.live.frames) * 20 < upto and not self._quiet and not self.live.ended
               and loop.time() < deadline):
            self._more.clear()
            try:
                await asyncio.wait_for(self._more.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                break
        if self.decided:
            return
        t0 = loop.time()
        said = loop.create_task(asyncio.wait_for(
            self.host.wake_said(self.live.pcm()[:upto * 32]), self.host.asr_timeout_s))
        await asyncio.wait([said], timeout=CONFIRM_WAIT_S)
        slow = not said.done() and not self.decided
        if slow:  # a busy phone: the glasses would end the utterance as ambient meanwhile
            self.host.note("wake word %s at %d ms: taken before the recogniser has said "
                           "(it is slow)" % (name, ms))
            self._heard(name, ms)
        try:
            said, text = await said
        except asyncio.TimeoutError:
            said, text = None, "the recogniser did not answer in %.0f s" % self.host.asr_timeout_s
        if slow:
            self.host.note("wake word %s at %d ms: the recogniser said %s after %.2f s"
                           % (name, ms, {True: "yes", False: "no"}.get(said, "nothing"),
                              loop.time() - t0))
        if self.dropped:
            return
        if said is False:
            self.host.wake_rejects += 1
            why = ("the detector's wake word %s at %d ms was not confirmed: the recogniser "
                   "heard %r" % (name, ms, text))
            if self.heard_ms is None:
                self.drop(why)
            else:  # taken meanwhile: the query is not answered
                self.rejected = True
                self.host.note("utterance %d: %s" % (self.live.first, why))
            return
        if said is None:
            self.host.note("wake word %s at %d ms: %s; the detector's word stands"
                           % (name, ms, text))
        if self.heard_ms is None:
            self._heard(name, ms)

    def _heard(self, name, ms):
        loop = asyncio.get_running_loop()
        self.heard_ms = ms
        self.t_detect = loop.time()
        self.host.wakes += 1
        self.host.note("wake word %s at %d ms of utterance %d" % (name, ms, self.live.first))
        self._send(WHAT_WAKE)
        self.close()  # decided: the detector hears no more of it

    def on_quiet(self):
        """The end-pointer heard the speech end: a stream with no wake word is dropped
        (one whose wake word is being confirmed: when the recogniser has said)."""
        self._quiet = True
        self._more.set()
        if self.decided or self.verifying is not None or self._settling is not None:
            return
        self.speech_end = asyncio.get_running_loop().time()
        if self.stream is None:
            self.drop("no wake word")
        else:  # the detector's verdict on the audio sent so far first
            self._settling = asyncio.get_running_loop().create_task(self._settle(self.stream))

    async def _settle(self, stream):
        await stream.settle()
        if not self.decided and self.verifying is None:
            self.drop("no wake word")

    def drop(self, why):
        if self.decided:
            return
        self.dropped = True
        self.t_drop = asyncio.get_running_loop().time()
        self.host.wake_drops += 1
        self.host.note("utterance %d dropped: %s" % (self.live.first, why))
        self._send(WHAT_DROP)
        self.close()

    def _send(self, what):
        try:
            self.host.phone.send(EVENTS, {kinds.K: kinds.VOICE_ENDPOINT, 1: self.live.first,
                                          2: self.live.heard_through(), 3: what})
        except Exception as e:
            self.host.note("could not tell the glasses about the wake word: %s: %s"
                           % (type(e).__name__, e), True)

    def query_pcm(self, pcm):
        """The query: the audio after the wake word (all of it without one)."""
        if self.heard_ms is None:
            return pcm
        return pcm[query_start(self.heard_ms):]

    async def query(self, pcm):
        """The query in the utterance's audio (the glasses asked) once the wake word is
        decided: a verdict or a confirmation pending is waited for. None without one (the
        stream is dropped: the glasses missed the drop)."""
        for _ in range(2):  # a verdict may start a confirmation
            for task in (self._settling, self.verifying):
                if task is not None and not task.done():
                    with contextlib.suppress(Exception):
                        await task
        if self.heard_ms is None:
            self.drop("no wake word by the end of the utterance")
            return None
        return None if self.rejected else self.query_pcm(pcm)

    def close(self):
        for task in (self._settling, self.verifying):
            if task is not None and not task.done() and not self.decided:
                task.cancel()
        s = self.stream
        self.stream = None
        if s is not None:
            task = asyncio.get_running_loop().create_task(s.close())
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    @staticmethod
    async def closed(timeout_s=10.0):
        """Wait for the wake streams being closed to be closed."""
        if _closing:
            await asyncio.wait(list(_closing), timeout=timeout_s)
