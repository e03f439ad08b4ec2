# A capacitive touch pad read through machine.TouchPad, with a tracked baseline.
#
#   pad = TouchSensor(machine.TouchPad(machine.Pin(3)), rises=True)
#   pad.calibrate()            # a few reads, untouched, to set the baseline
#   if pad.update(): ...       # True when touched/released changed; pad.touched says which
#
# On the ESP32-S3 the raw value rises with a finger (rises=True); on the ESP32 it falls.
# The baseline follows slow drift (temperature, humidity) only while the pad is untouched.
from micropython import const

_CAL_READS_MAX = const(32)


class TouchSensor:
    def __init__(self, pad, rises=True, threshold_pct=10, hysteresis_pct=3, label=None):
        if not 0 < hysteresis_pct < threshold_pct:
            raise ValueError("need 0 < hysteresis_pct < threshold_pct")
        self.pad = pad
        self.rises = rises
        self.threshold_pct = threshold_pct
        self.hysteresis_pct = hysteresis_pct
        self.label = label
        self.baseline = 0
        self.touched = False
        self.last = 0

    def calibrate(self, reads=8):
        """Baseline = mean of `reads` untouched readings (bounded, no waiting)."""
        n = reads if 0 < reads <= _CAL_READS_MAX else 8
        total = 0
        for _ in range(n):
            total += self.pad.read()
        self.baseline = total // n
        self.touched = False
        return self.baseline

    def read(self):
        return self.pad.read()

    def update(self):
        """Read once; return True when the touched state changed."""
        raw = self.pad.read()
        self.last = raw
        if not self.baseline:
            self.baseline = raw
            return False
        delta = raw - self.baseline if self.rises else self.baseline - raw
        on = self.baseline * self.threshold_pct // 100
        off = self.baseline * (self.threshold_pct - self.hysteresis_pct) // 100
        if not self.touched:
            if delta > on:
                self.touched = True
                return True
            if delta < on // 2:  # follow slow drift, 1/16 per reading
                self.baseline += (raw - self.baseline) // 16
            return False
        if delta < off:
            self.touched = False
            return True
        return False
