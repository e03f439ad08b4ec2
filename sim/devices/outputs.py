"""Virtual output parts: an LED on a GPIO or PWM, and a haptic (ERM) motor driven by PWM
through a transistor. They watch their pin, log every change, and add their current to
the power meter.
"""
from sim.devices.base import Part
from sim.world import MODE_OPEN_DRAIN, MODE_OUT


class LED(Part):
    kind = "led"

    @classmethod
    def wire(cls, world, name, spec, **options):
        return cls(world, name, spec["pin"], active_low=spec.get("active_low", False),
                   ma=spec.get("ma", 2.0), **options)

    def __init__(self, world, name, gpio, active_low=False, ma=2.0):
        super().__init__(world, name)
        self.gpio = gpio
        self.active_low = active_low
        self.ma = ma
        self.brightness = 0.0
        self.changes = 0
        self._level = 0
        self._pwm = None
        world.observe_pin(gpio, self._pin)
        world.observe_pwm(gpio, self._pwm_change)
        self._pin(world.pin(gpio).level())

    def _pin(self, level):
        self._level = level
        if self._pwm is None:
            st = self.world.pin(self.gpio)
            driven = st.mode == MODE_OUT or (st.mode == MODE_OPEN_DRAIN and not st.out)
            # an undriven pin (input, or before the firmware configures it) lights nothing
            self._set(float(bool(level) != self.active_low) if driven else 0.0)

    def _pwm_change(self, freq, duty_u16):
        self._pwm = duty_u16
        if duty_u16 is None:
            self._pin(self._level)
            return
        frac = duty_u16 / 65535.0
        self._set(1.0 - frac if self.active_low else frac)

    def _set(self, b):
        if b == self.brightness:
            return
        was_on = self.brightness > 0
        self.brightness = b
        self.world.power.set_adder(self.name, self.ma * b)
        if (b > 0) != was_on:
            self.changes += 1
            # the status LED blinks a heartbeat: its lines only in verbose logs
            self.world.note("out", "%s %s" % (self.name, "on" if b > 0 else "off"),
                            detail=self.name == "led")

    def short(self, on=True):
        """Fault injection: the LED shorted to ground (on=False: repaired). It stays dark
        and its pin reads back low even while the firmware drives it high (the pad's input
        sees the wire), which is how the firmware can tell; an open LED it cannot."""
        st = self.world.pin(self.gpio)
        st.fault = 0 if on else None
        self.note("shorted to ground (fault injected)" if on else "repaired")
        self._pin(st.level())

    def is_on(self):
        return self.brightness > 0

    def describe(self):
        if not self.brightness:
            return "off"
        return "on" if self.brightness >= 1 else "%d%%" % round(100 * self.brightness)


class HapticMotor(Part):
    kind = "erm_motor"

    @classmethod
    def wire(cls, world, name, spec, **options):
        return cls(world, name, spec["pin"], ma=spec.get("ma", 60.0), **options)

    def __init__(self, world, name, gpio, ma=60.0):
        super().__init__(world, name)
        self.gpio = gpio
        self.ma = ma
        self.strength = 0.0
        self.pulses = 0
        self.on_us = 0
        self._since = None
        world.observe_pwm(gpio, self._pwm_change)
        world.observe_pin(gpio, self._pin)

    def _pin(self, level):
        if self.gpio in self.world.pwm:
            return  # the PWM drives the motor, not the GPIO level
        self._set(1.0 if level else 0.0)

    def _pwm_change(self, freq, duty_u16):
        self._set(0.0 if duty_u16 is None else duty_u16 / 65535.0)

    def _set(self, s):
        if s == self.strength:
            return
        now = self.world.now_us()
        if self.strength > 0 and self._since is not None:
            self.on_us += now - self._since
        if s > 0 and self.strength == 0:
            self.pulses += 1
        self._since = now if s > 0 else None
        self.strength = s
        self.world.power.set_adder(self.name, self.ma * s)
        self.world.note("out", "%s %s" % (self.name, "%d%%" % round(100 * s) if s else "off"))

    def describe(self):
        return "%d%%" % round(100 * self.strength) if self.strength else "off"
