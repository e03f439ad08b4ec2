# A preallocated ring of radio events, filled in interrupt context and drained by the
# GATT task (IRQ -> record -> flag -> task: aioble lost writes and reordered events
# before it worked this way). Each slot holds an event code, a connection handle, two
# ints and one object; a full ring drops the new event and counts it. Pushing allocates
# nothing but what the caller hands in.
#
#   ring = EventRing(32)
#   ring.push(E_WRITE, conn, handle, 0, data)      # from the IRQ handler
#   while ring.count: ev, conn, a, b, d = ring.pop() ... (the task; pop() builds a tuple)
from micropython import const

# What the ring holds per event.
E_CONNECT = const(1)
E_DISCONNECT = const(2)
E_WRITE = const(3)
E_MTU = const(4)
E_ENCRYPTION = const(5)
E_CONN_UPDATE = const(6)
E_PASSKEY = const(7)


class EventRing:
    def __init__(self, size):
        self.size = size
        self.ev = bytearray(size)
        self.conn = [0] * size
        self.a = [0] * size
        self.b = [0] * size
        self.d = [None] * size
        self.r = 0
        self.w = 0
        self.count = 0
        self.dropped = 0

    def push(self, ev, conn, a, b, d):
        if self.count >= self.size:
            self.dropped += 1
            return False
        i = self.w
        self.ev[i] = ev
        self.conn[i] = conn
        self.a[i] = a
        self.b[i] = b
        self.d[i] = d
        i += 1
        self.w = 0 if i >= self.size else i
        self.count += 1
        return True

    def pop(self):
        """(event, conn, a, b, d) of the oldest event (count must be > 0)."""
        i = self.r
        d = self.d[i]
        self.d[i] = None
        out = (self.ev[i], self.conn[i], self.a[i], self.b[i], d)
        i += 1
        self.r = 0 if i >= self.size else i
        self.count -= 1
        return out
