# A preallocated ring of 20 ms PCM frames (16 kHz mono int16: 320 samples, 640 bytes).
#
# The capture side fills the slot write_slot() hands out (I2S readinto straight into it)
# and commit()s it; the consumer peeks the oldest frame and pop()s it. When the ring is
# full, committing a new frame overwrites the oldest one, which is counted in `overruns`.
# Every view is made once in __init__: no operation allocates.
import array

from micropython import const

FRAME_SAMPLES = const(320)
FRAME_BYTES = const(640)


class FrameRing:
    def __init__(self, n_frames, frame_samples=FRAME_SAMPLES):
        if n_frames < 2:
            raise ValueError("a frame ring needs at least 2 frames")
        self.n_frames = n_frames
        self.frame_samples = frame_samples
        self.frame_bytes = frame_samples * 2
        self.pcm = array.array("h", bytes(n_frames * frame_samples * 2))
        mv = memoryview(self.pcm)
        self._slots = [mv[i * frame_samples:(i + 1) * frame_samples]
                       for i in range(n_frames)]
        self._r = 0  # oldest frame
        self._n = 0  # frames held
        self.overruns = 0  # frames overwritten before anyone read them
        self.committed = 0  # frames committed since reset (saturating small int)

    def __len__(self):
        return self._n

    def reset(self):
        self._r = 0
        self._n = 0

    def write_slot(self):
        """The slot the next frame goes into (an int16 memoryview of frame_samples)."""
        i = self._r + self._n
        if i >= self.n_frames:
            i -= self.n_frames
        return self._slots[i]

    def commit(self):
        """The frame in write_slot() is complete. Full ring: the oldest is dropped."""
        if self._n >= self.n_frames:
            self._r += 1
            if self._r >= self.n_frames:
                self._r = 0
            self.overruns += 1
        else:
            self._n += 1
        if self.committed < 0x3FFFFFFF:
            self.committed += 1

    def push(self, pcm):
        """Copy one frame (frame_samples int16 items) in and commit it."""
        if len(pcm) != self.frame_samples:
            raise ValueError("frame must be %d samples, got %d" % (self.frame_samples,
                                                                     len(pcm)))
        dst = self.write_slot()
        for i in range(self.frame_samples):
            dst[i] = pcm[i]
        self.commit()

    def peek(self, k=0):
        """The k-th oldest frame held (0 = oldest), or None."""
        if k >= self._n:
            return None
        i = self._r + k
        if i >= self.n_frames:
            i -= self.n_frames
        return self._slots[i]

    def pop(self):
        """Drop the oldest frame (after using peek()). False if empty."""
        if not self._n:
            return False
        self._r += 1
        if self._r >= self.n_frames:
            self._r = 0
        self._n -= 1
        return True

    def drop_oldest(self, keep):
        """Keep only the newest `keep` frames."""
        while self._n > keep:
            self.pop()
