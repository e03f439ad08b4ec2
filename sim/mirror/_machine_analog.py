"""The `machine` mirror's single-pin analog peripherals: PWM out (its duty goes to the
world, for the part the pin drives), ADC and the esp32's TouchPad in (the world's analog
levels and touch parts). Re-exported by sim/mirror/machine.py."""
from sim.mirror._machine_pin import _gpio_of, _w


# ---- PWM ------------------------------------------------------------------------------------
class PWM:
    def __init__(self, dest, *, freq=None, duty=None, duty_u16=None, duty_ns=None,
                 invert=False):
        w = _w()
        self._world = w
        self._gpio = _gpio_of(dest)
        self._freq = 5000
        self._duty = 0
        self._live = False
        self._invert = bool(invert)
        self.init(freq=freq, duty=duty, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, *, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=None):
        lo, hi = self._world.data.get("pwm_freq_range", (1, 40000000))
        if freq is not None:
            if not lo <= freq <= hi:
                raise ValueError("freq must be from %d Hz to %d Hz" % (lo, hi))
            self._freq = freq
        if invert is not None:
            self._invert = bool(invert)
        if duty is not None:
            self._set_u16(duty * 65535 // 1023)
        if duty_u16 is not None:
            self._set_u16(duty_u16)
        if duty_ns is not None:
            self._set_u16(duty_ns * self._freq * 65535 // 1000000000)
        if not self._live:
            self._live = True
            self._world.open_peripherals.append(self)
        self._publish()

    def _check(self):
        if not self._live:
            raise ValueError("PWM is inactive")

    def _set_u16(self, v):
        if not 0 <= v <= 65535:
            raise ValueError("duty_u16 must be from 0 to 65535")
        self._duty = v

    def _publish(self):
        d = 65535 - self._duty if self._invert else self._duty
        self._world.set_pwm(self._gpio, self._freq, d)

    def freq(self, value=None):
        self._check()
        if value is None:
            return self._freq
        self.init(freq=value)
        return None

    def duty_u16(self, value=None):
        self._check()
        if value is None:
            return self._duty
        self._set_u16(value)
        self._publish()
        return None

    def duty(self, value=None):
        self._check()
        if value is None:
            return self._duty * 1023 // 65535
        self._set_u16(value * 65535 // 1023)
        self._publish()
        return None

    def duty_ns(self, value=None):
        self._check()
        if value is None:
            return self._duty * 1000000000 // (65535 * self._freq)
        self.init(duty_ns=value)
        return None

    def deinit(self):
        if self._live:
            self._sim_release()
            w = self._world
            if self in w.open_peripherals:
                w.open_peripherals.remove(self)

    def _sim_release(self):
        self._live = False
        self._world.set_pwm(self._gpio, self._freq, None)


# ---- ADC ------------------------------------------------------------------------------------
class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_12BIT = 12
    _FULL_SCALE_V = (0.95, 1.25, 1.75, 3.1)  # esp32-s3 usable ranges per attenuation

    def __init__(self, pin, *, atten=ATTN_0DB):
        self._world = _w()
        self._gpio = _gpio_of(pin)
        adc = self._world.data.get("adc_gpios")
        if adc is not None and self._gpio not in adc:
            raise ValueError("invalid pin")
        self.atten(atten)

    def atten(self, atten):
        if atten not in (0, 1, 2, 3):
            raise ValueError("invalid attenuation")
        self._atten = atten

    def width(self, bits):
        return None

    def _volts(self):
        fs = self._FULL_SCALE_V[self._atten] if self._world.port == "esp32" else 3.3
        return max(0.0, min(fs, self._world.analog.get(self._gpio, 0.0))), fs

    def read_u16(self):
        v, fs = self._volts()
        return int(v / fs * 65535)

    def read_uv(self):
        return int(self._volts()[0] * 1e6)

    def read(self):
        return self.read_u16() >> 4


# ---- TouchPad (esp32 only: see machine.__getattr__) ----------------------------------------
class _TouchPad:
    def __init__(self, pin):
        w = _w()
        self._world = w
        gpio = _gpio_of(pin)
        if gpio not in w.data.get("touch_gpios", ()):
            raise ValueError("invalid pin for touchpad")
        self._gpio = gpio
        self._threshold = 0

    def config(self, value):
        self._threshold = value

    def read(self):
        part = self._world.touch_parts.get(self._gpio)
        if part is None:
            return self._world.data.get("touch_idle_value", 30000)
        return part.read_raw()
