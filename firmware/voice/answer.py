# One spoken answer from the phone, played while it streams in.
#
# The phone answers an offload RPC stream (firmware/protocol/offload.py). For "ask" the first
# chunk is the text answer (a map: heard text, answer, intent, actions, audio report) and
# every later chunk is one audio packet (firmware/voice/packet.py) for Playback.push();
# for "tts" every chunk is an audio packet. A packet is pushed only when the jitter buffer
# has room, so what waits on the glasses is bounded by the stream window (chunks the phone
# may send ahead of the glasses' credit) plus the jitter buffer.
#
#   a = Answer(link.offload, playback, clock)
#   meta = await a.run("ask", {"first": 12, "last": 97}, meta_first=True)
#   a.cancel("link lost")          # from another task: run() raises RpcCancelled
#
# Deadlines: the first chunk within first_ms of the request (the phone recognises the
# speech and starts the answer meanwhile), then each chunk within stall_ms of asking for
# it (the phone's TTS runs ahead of playback, so a chunk that does not come means the
# stream stopped). A missed deadline cancels the call, which stops the phone's job.
# Errors: AnswerError (deadline, a chunk that is not what it should be, audio the playback
# refused or that stopped), RpcError subclasses from the phone (HandlerError, ...).
from micropython import const

from firmware.protocol.rpc import RpcTimeout
from firmware.runtime import sched as _s

_FRAME_MS = const(20)
_ROOM_WAIT_FRAMES = const(100)  # most frames to wait for room in the jitter buffer (2 s)


class AnswerError(Exception):
    """The answer could not be played; the message says why."""


class Answer:
    def __init__(self, offload, playback, clock, first_ms=10000, stall_ms=3000,
                 total_ms=120000, window=8):
        self.offload = offload
        self.playback = playback
        self.clock = clock
        self.first_ms = first_ms
        self.stall_ms = stall_ms
        self.total_ms = total_ms
        self.window = window
        self.stream = None
        self.method = ""
        self.packets = 0
        self.meta = None

    def _deadline(self, ms):
        c = self.clock
        self.stream.call.deadline = c.ticks_add(c.ticks_ms(), ms)

    async def _read(self, ms):
        self._deadline(ms)
        try:
            return await self.stream.read()
        except RpcTimeout:
            raise AnswerError("%s: nothing from the phone for %d ms" % (self.method, ms))

    def cancel(self, reason):
        """Stop the answer (run() raises RpcCancelled(reason)); False if none runs."""
        st = self.stream
        if st is None or st.call.done():
            return False
        return self.offload.core.cancel(st.call, reason)

    def running(self):
        return self.stream is not None and not self.stream.call.done()

    async def run(self, method, args, meta_first=True, on_meta=None):
        """Ask the phone and play its answer; returns the text answer (ask) or None."""
        pb = self.playback
        self.method = method
        self.packets = 0
        self.meta = None
        timeouts = pb.stream_timeouts
        self.stream = self.offload.stream(method, args, self.total_ms, self.window)
        try:
            wait = self.first_ms
            if meta_first:
                meta = await self._read(wait)
                if not isinstance(meta, dict):
                    raise AnswerError("%s: the phone's first chunk is not the text answer"
                                      % method)
                self.meta = meta
                if on_meta is not None:
                    on_meta(meta)
            while True:
                chunk = await self._read(wait)
                if chunk is None:
                    break
                wait = self.stall_ms
                if not isinstance(chunk, (bytes, bytearray)):
                    raise AnswerError("%s: chunk %d is not an audio packet" %
                                      (method, self.packets + 1))
                n = 0
                while pb.room() < 1:
                    n += 1
                    if n > _ROOM_WAIT_FRAMES:
                        raise AnswerError("%s: playback took no audio for %d ms" %
                                          (method, n * _FRAME_MS))
                    await _s.sleep_ms(_FRAME_MS)
                if not pb.push(chunk):
                    raise AnswerError("%s: answer audio refused: %s" % (method, pb.last_error))
                self.packets += 1
            # the stream is complete: let the playback play what it holds
            n = 0
            limit = pb.jitter.slots + pb.max_underruns + 8
            while pb.jitter.active:
                n += 1
                if n > limit:
                    raise AnswerError("%s: playback did not finish the answer" % method)
                await _s.sleep_ms(_FRAME_MS)
            if pb.stream_timeouts != timeouts:
                raise AnswerError("%s: the answer's audio stopped coming (%d packets played)"
                                  % (method, self.packets))
            return self.meta
        finally:
            st = self.stream
            if not st.call.done():
                st.cancel()


def ask_args(first, last, why, battery=None):
    """The "ask" call's arguments: the utterance's packets, why it ended (None: a held
    query handed over) and the battery (the app's latest (soc, volts, charging, t))."""
    args = {"first": first, "last": last, "why": why or "handover"}
    if battery:
        pct = int(battery[0])
        args["battery"] = 0 if pct < 0 else (100 if pct > 100 else pct)
        args["charging"] = bool(battery[2])
    return args
