"""The wake word on the phone: the glasses' VAD opens a stream flagged WAKE
(firmware/voice/packet.py F_WAKE) and the phone decides whether it is a query.

Each such utterance's audio goes to the wake-word worker as it arrives (WakeStream,
host_tools/voice/speech.py). When the model fires, the phone tells the glasses
(VOICE_ENDPOINT what=2: they play the start chime, and stop an answer that is playing:
barge-in) and the query is the audio after the wake word. When the phone's end-pointer
hears the speech end (250 ms of quiet) with no wake word, or MAX_SPEECH_S of speech pass
without one, it tells the glasses to drop the stream (what=3): within 300 ms of the end
of speech, so the microphone streams no longer than it must.

Its own voice: the phone knows what it is playing. An answer whose own audio makes the
wake-word model fire (it says the wake phrase) marks the time it plays as deaf
(`deaf_until`): a detection then is taken for the glasses hearing their own speaker.
"""
import asyncio

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.protocol import kinds
from firmware.protocol.channels import EVENTS

WHAT_END = 1  # VOICE_ENDPOINT field 3: the command is whole
WHAT_WAKE = 2  # the wake word was heard: it is a query
WHAT_DROP = 3  # no wake word: drop the stream
MAX_SPEECH_S = 4.0  # a wake word comes first: this much speech without one is not a query


class Wake:
    """The wake-word state of one live utterance (host_tools/voice/endpoint.py Live)."""

    def __init__(self, host, live):
        self.host = host
        self.live = live
        self.heard_ms = None  # ms of audio from the stream's start where the model fired
        self.dropped = False
        self.stream = host.engines_wake(self._on_detect) if host.engines_wake else None
        self.t_start = asyncio.get_running_loop().time()
        self.t_detect = None
        self.t_drop = None
        self.speech_end = None  # loop time of the quiet point that decided a drop

    @property
    def decided(self):
        return self.heard_ms is not None or self.dropped

    def feed(self, frame):
        if self.stream is not None and not self.decided:
            self.stream.feed(frame)
        if (not self.decided and self.stream is not None and
                len(self.live.frames) * 0.02 > MAX_SPEECH_S):
            self.drop("no wake word in %.0f s of speech" % MAX_SPEECH_S)

    def _on_detect(self, name, ms):
        if self.decided:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self.host.deaf_until:
            self.host.note("wake word %s heard while the glasses play an answer that says "
                           "it: taken for their own voice" % name)
            return
        self.heard_ms = ms
        self.t_detect = loop.time()
        self.host.wakes += 1
        self.host.note("wake word %s at %d ms of utterance %d" % (name, ms, self.live.first))
        self._send(WHAT_WAKE)

    def on_quiet(self):
        """The end-pointer heard the speech end: a stream with no wake word is dropped."""
        if not self.decided:
            self.speech_end = asyncio.get_running_loop().time()
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
        return pcm[self.heard_ms * 32:]

    def close(self):
        s = self.stream
        self.stream = None
        if s is not None:
            asyncio.get_running_loop().create_task(s.close())
