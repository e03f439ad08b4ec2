"""The host's side of offload RPC: a registry of handlers, each job run as an asyncio task.

    host = RpcHost(lambda m: driver.send(EVENTS, m))
    host.register("asr", transcribe)         # def / async def: returns the result
    host.register("tts", synthesize)         # (async) generator: yields chunks (a stream)
    # in the session's on_message: if ch == EVENTS and host.handle(msg): return
    # on the session's EV_ROOM: host.room(); on EV_OPEN with peer_reset: host.peer_reset()

A handler gets the request's args. It runs under the request's timeout_ms: past it, the
handler is cancelled and the glasses get RpcTimeout. A CANCEL from the glasses cancels
the handler's task. Exceptions become typed errors on the glasses: an RpcError raised by
the handler keeps its type (e.g. RpcUnavailable("model not loaded")); anything else
arrives as HandlerError("ExcType: message"). A stream handler's chunks go out as the
glasses grant stream credit; a unary call to a stream handler gets the chunks as a list,
a stream call to a unary handler gets the result as one chunk.
"""
import asyncio
import inspect

from firmware.protocol.rpc import HandlerError, RpcError, RpcTimeout, UnknownMethod
from firmware.protocol.rpc_server import RpcServer


class RpcHost:
    def __init__(self, send, max_running=8):
        self.server = RpcServer(send, self._start, self._cancel, self._changed, max_running)
        self.handlers = {}
        self._change = None  # an asyncio.Event replaced at every change (credit, room)
        self.completed = 0
        self.cancelled = 0
        self.timed_out = 0
        self.failed = 0

    def register(self, name, handler):
        if not isinstance(name, str) or not name:
            raise ValueError("an RPC method name is non-empty text, not %r" % (name,))
        if not callable(handler):
            raise TypeError("handler for %r is not callable" % name)
        self.handlers[name] = handler

    def unregister(self, name):
        self.handlers.pop(name, None)

    def handle(self, msg):
        """Take a request / cancel / stream credit from the events channel; False if msg
        is not one (route it elsewhere)."""
        return self.server.handle(msg)

    def room(self):
        """The session's outbox has room again (EV_ROOM)."""
        self.server.flush()
        self._changed(None)

    def peer_reset(self):
        """The glasses restarted: nobody waits for the running jobs any more."""
        self.server.cancel_all("the glasses restarted", notify_client=False)

    def close(self, reason="the host is shutting down"):
        """Cancel every running job; the glasses get RpcCancelled(reason)."""
        self.server.cancel_all(reason)

    # ---- internals -------------------------------------------------------------------
    def _changed(self, _job):
        ev = self._change
        if ev is not None:
            self._change = None
            ev.set()

    async def _until(self, ok):
        """Retry ok() (a send) until it returns True, waiting for room or credit."""
        while not ok():
            if self._change is None:
                self._change = asyncio.Event()
            await self._change.wait()

    def _start(self, job):
        handler = self.handlers.get(job.method)
        if handler is None:
            names = ", ".join(sorted(self.handlers)) or "none"
            self.server.reject(job, UnknownMethod("no handler for %r (registered: %s)" %
                                                  (job.method, names)))
            return
        job.task = asyncio.get_running_loop().create_task(self._run(job, handler))

    def _cancel(self, job):
        if job.task is not None:
            job.task.cancel()

    async def _run(self, job, handler):
        srv = self.server
        try:
            result = await asyncio.wait_for(self._serve(job, handler), job.timeout_ms / 1000)
        except asyncio.CancelledError:
            self.cancelled += 1
            if not job.cancelled:  # not the glasses' cancel: the loop is going down
                raise
            return
        except (asyncio.TimeoutError, TimeoutError):
            self.timed_out += 1
            err = RpcTimeout("%s ran over its %d ms" % (job.method, job.timeout_ms))
            await self._until(lambda: srv.fail(job, err))
            return
        except RpcError as e:
            self.failed += 1
            rpc_err = e
            await self._until(lambda: srv.fail(job, rpc_err))
            return
        except Exception as e:
            self.failed += 1
            err = HandlerError("%s: %s" % (type(e).__name__, e))
            await self._until(lambda: srv.fail(job, err))
            return
        self.completed += 1
        await self._until(lambda: srv.reply(job, result))

    async def _serve(self, job, handler):
        out = handler(job.args)
        if inspect.isawaitable(out):
            out = await out
        if inspect.isasyncgen(out):
            chunks = []
            async for chunk in out:
                await self._chunk(job, chunk, chunks)
            return chunks if not job.window else None
        if inspect.isgenerator(out):
            chunks = []
            for chunk in out:
                await self._chunk(job, chunk, chunks)
            return chunks if not job.window else None
        if job.window:
            await self._chunk(job, out, None)
            return None
        return out

    async def _chunk(self, job, data, collect):
        if data is None:
            return  # None marks "no chunk" on the glasses' side; skip it
        if not job.window:
            collect.append(data)
            return
        await self._until(lambda: self.server.chunk(job, data))
