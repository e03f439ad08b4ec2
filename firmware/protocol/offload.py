# Offload RPC for firmware tasks: awaitable calls and stream readers on the scheduler,
# over the sans-IO RpcClient (firmware/protocol/rpc.py).
#
#   off = Offload(lambda m: session.send(EVENTS, m))
#   # in the link task's on_message: if ch == EVENTS and off.handle(msg): return
#   # on the session's EV_ROOM: off.room(); on EV_OPEN with peer_reset: off.peer_reset()
#   text = await off.call("asr", audio_ref, timeout_ms=3000)     # raises RpcError subclasses
#   r = off.stream("tts", {"text": text}, timeout_ms=10000)
#   while (chunk := await r.read()) is not None: play(chunk)
#
# Cancelling the task that awaits a call cancels the call: the host's handler is stopped.
from firmware.protocol.rpc import DONE, RpcClient, RpcUnavailable
from firmware.runtime.sched import CancelledError
from firmware.runtime.sync import Event


class Offload:
    def __init__(self, send, clock=None, max_pending=8, grace_ms=1000, first_id=1):
        self.core = RpcClient(send, clock, max_pending, grace_ms, first_id)

    def handle(self, msg):
        """Route an events-channel message; False if it is not an RPC reply."""
        return self.core.handle(msg)

    def room(self):
        self.core.flush()

    def peer_reset(self, why="the host restarted"):
        """The host restarted (or another phone took the link): answers to the calls it
        had taken are gone."""
        self.core.fail_all(RpcUnavailable("%s; the call's answer is lost" % why))

    async def _wait(self, call, ev, ready):
        core = self.core
        try:
            while not ready(call):
                left = core.left_ms(call)
                if left > 0:
                    ev.clear()
                    await ev.wait(left)
                if not ready(call):
                    core.poll()  # expires the call once its deadline has passed
        except CancelledError:
            core.cancel(call, "the calling task was cancelled")
            raise

    async def call(self, method, args=None, timeout_ms=5000):
        """The host's result; raises RpcTimeout, RpcCancelled, UnknownMethod, HandlerError,
        RpcUnavailable (all RpcError)."""
        c = self.core.request(method, args, timeout_ms)
        ev = Event()
        c.notify = ev.set
        await self._wait(c, ev, _done)
        return c.outcome()

    def stream(self, method, args=None, timeout_ms=10000, window=8):
        """A reader for a streamed answer (at most `window` chunks buffered here)."""
        c = self.core.request(method, args, timeout_ms, window)
        return Stream(self, c)


def _done(call):
    return call.state == DONE


def _chunk_or_done(call):
    return call.chunks or call.state == DONE


class Stream:
    def __init__(self, off, call):
        self._off = off
        self.call = call
        self._ev = Event()
        call.notify = self._ev.set

    async def read(self):
        """The next chunk, or None once the stream has ended; raises its RpcError."""
        c = self.call
        await self._off._wait(c, self._ev, _chunk_or_done)
        if c.chunks:
            return self._off.core.take(c)
        c.outcome()
        return None

    def cancel(self):
        return self._off.core.cancel(self.call)
