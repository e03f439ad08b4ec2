# Test doubles of machine.I2S (below the HAL line) in virtual time, for the capture and
# playback tasks. AudioWorld is the scheduler's idle hook: it advances the VirtualClock
# to the next I2S event (a microphone frame arriving, the speaker draining), fires it, and
# returns early when an interrupt handler set a flag.
FRAME = 320
FRAME_MS = 20


class AudioWorld:
    def __init__(self, clock):
        self.clock = clock
        self.now = 0  # ms since the world began
        self.devices = []
        self.sched = None
        self.at = []  # [(ms, fn)] one-shot scenario events, sorted by the test

    def idle(self, ms):
        end = self.now + ms
        while True:
            t = end
            for d in self.devices:
                e = d.next_event()
                if e is not None and e < t:
                    t = e
            for ev in self.at:
                if ev[0] < t:
                    t = ev[0]
            if t > self.now:
                self.clock.advance_ms(t - self.now)
                self.now = t
            fired = False
            for d in self.devices:
                e = d.next_event()
                if e is not None and e <= self.now:
                    d.fire(self.now)
                    fired = True
            while self.at and self.at[0][0] <= self.now:
                self.at.pop(0)[1]()
                fired = True
            if fired or self.now >= end:
                return
            if t <= self.now:  # a device claims an event it does not fire: move on
                self.clock.advance_ms(end - self.now)
                self.now = end
                return


class MicI2S:
    """RX: a frame of `source(out)` arrives every 20 ms; readinto(buf) in irq mode
    completes when the next frame is there. Frames the firmware does not ask for in time
    pile up in a driver buffer of `ibuf_frames`, beyond which the driver drops them."""

    def __init__(self, world, source, ibuf_frames=4):
        self.world = world
        self.source = source
        self.handler = None
        self.pending = None
        self.backlog = 0
        self.ibuf_frames = ibuf_frames
        self.next_frame_ms = world.now + FRAME_MS
        self.dropped = 0
        self.reads = 0
        self.done_at = -1
        self.stalled_until = -1  # stall(): the driver completes no read before this
        world.devices.append(self)

    def stall(self, ms):
        """The driver (its DMA, or the CPU it needs) is held up for ms: the outstanding
        read completes no sooner; frames still arrive into its buffer meanwhile."""
        self.stalled_until = self.world.now + ms

    def irq(self, handler):
        self.handler = handler

    def readinto(self, buf):
        assert self.handler is not None, "capture must use non-blocking (irq) mode"
        assert self.pending is None, "one outstanding readinto at a time"
        self.pending = buf
        if self.backlog:
            self.done_at = self.world.now  # already there: completes at once

    def next_event(self):
        if self.pending is not None and self.backlog:
            if self.stalled_until > self.world.now:
                return min(self.stalled_until, self.next_frame_ms)
            return self.world.now
        return self.next_frame_ms

    def fire(self, now):
        while self.next_frame_ms <= now:
            self.next_frame_ms += FRAME_MS
            if self.backlog < self.ibuf_frames:
                self.backlog += 1
            else:
                self.dropped += 1
                self.source(None)  # the lost frame still passes
        if self.pending is not None and self.backlog and self.stalled_until <= now:
            self.backlog -= 1
            self.source(self.pending)
            self.pending = None
            self.reads += 1
            self.handler(self)


class SpeakerI2S:
    """TX: write(buf) in irq mode copies buf into a driver buffer of `ibuf_frames` that
    drains at 16 kHz; the handler runs once buf has been taken. Records every frame that
    comes out as (mean |sample|, checksum) and keeps the first `keep` frames' samples."""

    def __init__(self, world, ibuf_frames=3, keep=0):
        self.world = world
        self.handler = None
        self.ibuf_frames = ibuf_frames
        self.queued = 0  # frames in the driver buffer
        self.drain_at = None
        self.waiting = None  # buffer written while full
        self.out = []  # (level, checksum) per frame
        self.keep = keep
        self.samples = []
        self.take_at = None
        world.devices.append(self)

    def irq(self, handler):
        self.handler = handler

    def write(self, buf):
        assert self.handler is not None, "playback must use non-blocking (irq) mode"
        assert self.waiting is None, "one outstanding write at a time"
        self.waiting = buf
        self.take_at = self.world.now

    def next_event(self):
        t = None
        if self.waiting is not None and self.queued < self.ibuf_frames:
            t = self.take_at
        if self.drain_at is not None and (t is None or self.drain_at < t):
            t = self.drain_at
        return t

    def fire(self, now):
        if self.drain_at is not None and self.drain_at <= now:
            self.queued -= 1
            self.drain_at = now + FRAME_MS if self.queued else None
        if self.waiting is not None and self.queued < self.ibuf_frames:
            b = self.waiting
            self.waiting = None
            lv = 0
            ck = 0
            for i in range(FRAME):
                s = b[i]
                lv += s if s >= 0 else -s
                ck = (ck * 31 + s) & 0xFFFFFF
            self.out.append((lv // FRAME, ck))
            if len(self.out) <= self.keep:
                for i in range(FRAME):
                    self.samples.append(b[i])
            self.queued += 1
            if self.drain_at is None:
                self.drain_at = now + FRAME_MS
            self.handler(self)


def checksum(frame):
    ck = 0
    for i in range(FRAME):
        ck = (ck * 31 + frame[i]) & 0xFFFFFF
    return ck
