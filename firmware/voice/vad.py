# Energy VAD with a tracked noise floor and hangover, in small-int arithmetic.
#
# Per 20 ms frame: level = mean |sample| (every `stride`-th sample). The noise floor
# follows the level quickly down and slowly up (1/64 of the gap per frame, ~1.3 s time
# constant); during speech it only creeps up (1/2048, ~41 s: a quicker creep lifts the
# floor towards loud continuous speech and ends it early). Speech starts after
# `start_frames` consecutive frames above
#     on  = max(min_level, floor * ratio_q4 / 16 + margin)
# and ends after `hangover_ms` of consecutive frames below the lower `off` threshold
# (half way between the floor and `on`), or when it has lasted `max_ms`. The first
# `warmup_ms` only train the floor, so steady noise present from the start never
# triggers; `min_level` keeps silence and low hiss from ever counting as speech. After
# an utterance cut at max_ms, a new one starts only after a hangover of quiet.
#
# feed() returns one of the events below; it allocates nothing.
from micropython import const

EV_NONE = const(0)  # quiet, nothing happening
EV_START = const(1)  # speech started with this frame (the previous start_frames-1 too)
EV_SPEECH = const(2)  # still in speech
EV_END = const(3)  # speech ended after the hangover
EV_MAX = const(4)  # speech ended because it hit max_ms
EVENT_NAMES = ("none", "start", "speech", "end", "max")

FRAME_MS = const(20)


class Vad:
    def __init__(self, start_frames=3, hangover_ms=600, max_ms=15000, min_level=200,
                 ratio_q4=48, margin=60, warmup_ms=200, stride=2, frame_ms=FRAME_MS):
        if start_frames < 1 or hangover_ms < frame_ms or max_ms < frame_ms * start_frames:
            raise ValueError("VAD: need start_frames >= 1, hangover_ms >= one frame, "
                             "max_ms >= start_frames frames")
        if stride < 1 or ratio_q4 < 16:
            raise ValueError("VAD: stride >= 1 and ratio_q4 >= 16 (threshold above floor)")
        self.start_frames = start_frames
        self.hangover_frames = hangover_ms // frame_ms
        self.max_frames = max_ms // frame_ms
        self.min_level = min_level
        self.ratio_q4 = ratio_q4
        self.margin = margin
        self.warmup_frames = warmup_ms // frame_ms
        self.stride = stride
        self.frame_ms = frame_ms
        self.reset()

    def reset(self):
        self.floor = 0
        self.frames = 0  # frames fed since reset (saturates)
        self.speaking = False
        self.loud = 0  # consecutive frames above `on`
        self.quiet = 0  # consecutive frames below `off` while speaking
        self.length = 0  # frames in the current utterance
        self.level = 0  # level of the last frame
        self.utterances = 0
        self.cooldown = False  # after EV_MAX: wait for a hangover of quiet before a start

    def threshold(self):
        """The start threshold for the current floor."""
        on = (self.floor * self.ratio_q4 >> 4) + self.margin
        return on if on > self.min_level else self.min_level

    def level_of(self, pcm, n):
        """Mean |sample| over n samples of pcm (signed 16-bit items)."""
        acc = 0
        k = 0
        st = self.stride
        i = 0
        while i < n:
            s = pcm[i]
            acc += s if s >= 0 else -s
            k += 1
            i += st
        return acc // k if k else 0

    def feed(self, pcm, n=320):
        lv = self.level_of(pcm, n)
        self.level = lv
        f = self.floor
        if self.frames < self.warmup_frames:  # learn the floor: running mean of warm-up
            self.frames += 1
            self.floor = f + (lv - f) // self.frames
            return EV_NONE
        if self.frames < 0x3FFFFFFF:
            self.frames += 1
        on = self.threshold()
        if not self.speaking:
            if lv < f:
                self.floor = f - ((f - lv + 3) >> 2)  # quickly down
            else:
                self.floor = f + ((lv - f) >> 6)  # slowly up
            if self.cooldown:
                if lv < on:
                    self.quiet += 1
                    if self.quiet >= self.hangover_frames:
                        self.cooldown = False
                        self.quiet = 0
                else:
                    self.quiet = 0
                return EV_NONE
            if lv >= on:
                self.loud += 1
                if self.loud >= self.start_frames:
                    self.speaking = True
                    self.quiet = 0
                    self.length = self.loud
                    self.loud = 0
                    self.utterances += 1
                    return EV_START
            else:
                self.loud = 0
            return EV_NONE
        # speaking
        if lv > f:
            self.floor = f + ((lv - f) >> 11)
        self.length += 1
        off = (f + on) >> 1
        if lv < off:
            self.quiet += 1
        else:
            self.quiet = 0
        if self.quiet >= self.hangover_frames:
            self._stop()
            return EV_END
        if self.length >= self.max_frames:
            self._stop()
            self.cooldown = True  # no new start until a hangover of quiet
            return EV_MAX
        return EV_SPEECH

    def end_utterance(self):
        """End the utterance in progress (the stream was dropped): the next start_frames
        loud frames start a new one. The floor is kept."""
        self._stop()
        self.cooldown = False

    def _stop(self):
        self.speaking = False
        self.loud = 0
        self.quiet = 0
