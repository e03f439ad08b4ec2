# The one observer mechanism of the firmware and the host (bumble's utils.EventEmitter,
# cut to what a small MCU affords): an object declares the names of its events; others
# subscribe with on(name, fn) and emit(name, *args) calls them in subscription order.
#
#   class Link(Emitter):
#       EVENTS = ("up", "room")
#       def __init__(self):
#           Emitter.__init__(self)
#   link.on("up", lambda up: ...)     # a name not in EVENTS is refused: a typo is an error
#   link.emit("up", True)
#   link.off("up", fn)
#
# Bounded: at most MAX_LISTENERS per event. A listener's exception goes to the caller of
# emit() (a supervised task, or the session that counts it), like a plain call would.
# Listener lists are made on first subscription, so an event nobody listens to costs a
# dict lookup and nothing else (emit's *args tuple aside: keep emits off the hottest paths).
from micropython import const

MAX_LISTENERS = const(8)


class Emitter:
    EVENTS: tuple = ()  # the event names a subclass declares

    def __init__(self):
        self._listeners = {}

    def on(self, name, fn):
        """Call fn(*args) on every emit(name, *args). Returns fn (for off)."""
        if name not in self.EVENTS:
            raise ValueError("no event %r (events: %s)" % (name, ", ".join(self.EVENTS)))
        d = self._listeners
        fns = d.get(name)
        if fns is None:
            fns = d[name] = []
        if len(fns) >= MAX_LISTENERS:
            raise ValueError("too many listeners for %s" % name)
        fns.append(fn)
        return fn

    def off(self, name, fn):
        fns = self._listeners.get(name)
        if fns and fn in fns:
            fns.remove(fn)

    def listeners(self, name):
        return tuple(self._listeners.get(name, ()))

    def emit(self, name, *args):
        fns = self._listeners.get(name)
        if fns:
            for fn in (fns if len(fns) == 1 else tuple(fns)):  # a listener may call off()
                fn(*args)
