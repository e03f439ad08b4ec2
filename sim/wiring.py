"""The board's wiring as a simulated world keeps it: each GPIO's state (PinState), the I2C
wires with the parts on them (I2CWires), I2S lines, touch electrodes, PWM outputs and
analog levels, and the World's methods on them (Wiring, a base of sim.world.World): the
machine mirror's side (set_pin, set_pwm) and the parts' side (drive_pin, attach_*,
observe_*). A pin edge that matches a Pin.irq trigger runs its handler at once and kicks
the firmware driver.
"""

# pin modes/pulls (machine.Pin values)
MODE_IN = 1
MODE_OUT = 3
MODE_OPEN_DRAIN = 7
PULL_DOWN = 1
PULL_UP = 2
IRQ_RISING = 1
IRQ_FALLING = 2


class PinState:
    """One GPIO as the world sees it: the MCU's side (mode, pull, output latch, IRQ) and
    the outside (the level a part drives, or None when nothing drives it)."""

    def __init__(self, gpio):
        self.gpio = gpio
        self.mode = None  # None: never configured (reset state: input)
        self.pull = None
        self.out = 0
        self.ext = None
        self.irq_handler = None
        self.irq_trigger = 0
        self.irq_pin = None  # the machine.Pin object passed to the handler
        self.irq_count = 0
        self.observers = []  # fn(level) on every change of the level on the wire
        self.fault = None  # a level a fault forces on the wire (a short), whatever drives it

    def level(self):
        if self.fault is not None:
            return self.fault
        if self.mode == MODE_OUT:
            return self.out
        if self.mode == MODE_OPEN_DRAIN and self.out == 0:
            return 0
        if self.ext is not None:
            return self.ext
        return 1 if (self.pull == PULL_UP or self.mode == MODE_OPEN_DRAIN) else 0


class I2CWires:
    """An I2C bus as wires (SCL, SDA) with the parts that listen on it."""

    def __init__(self, scl, sda):
        self.scl = scl
        self.sda = sda
        self.parts = {}  # addr -> part
        self.transfers = 0

    def attach(self, part):
        if part.addr in self.parts:
            raise ValueError("two parts at I2C address 0x%02X" % part.addr)
        self.parts[part.addr] = part


class Wiring:
    """The World's pins, buses and outputs (World sets them up with _init_wiring)."""

    def _init_wiring(self):
        self.pins = {}
        self.i2c = {}  # (scl, sda) -> I2CWires
        self.i2s_parts = {}  # (sck, ws, sd) -> part
        self.touch_parts = {}  # gpio -> electrode part
        self.pwm = {}  # gpio -> (freq, duty_u16) while a PWM drives it
        self._pwm_observers = {}
        self.analog = {}  # gpio -> volts

    # ---- pins ----------------------------------------------------------------------------
    def resolve_pin(self, pin_id):
        """A GPIO number for a Pin id (an int or one of the board's pin names)."""
        gpios = self.data.get("gpios", ())
        if isinstance(pin_id, str):
            named = self.data.get("pin_names", {})
            if pin_id in named:
                return named[pin_id]
            raise ValueError("unknown named pin \"%s\"" % pin_id)
        if isinstance(pin_id, bool) or not isinstance(pin_id, int):
            raise TypeError("can't convert %s to int" % type(pin_id).__name__)
        if pin_id not in gpios:
            raise ValueError("invalid pin")
        return pin_id

    def pin(self, gpio):
        st = self.pins.get(gpio)
        if st is None:
            st = self.pins[gpio] = PinState(gpio)
        return st

    def _changed(self, st, before, mode_changed=False):
        after = st.level()
        if after == before:
            if mode_changed:  # same level, but now driven (or released): tell the parts
                for fn in list(st.observers):
                    fn(after)
            return
        for fn in list(st.observers):
            fn(after)
        trig = st.irq_trigger
        if st.irq_handler is not None and (
                (after and trig & IRQ_RISING) or (not after and trig & IRQ_FALLING)):
            st.irq_count += 1
            st.irq_handler(st.irq_pin)
            self.kick()

    def drive_pin(self, gpio, level):
        """A part drives the wire (None: lets it float). Edges run the pin's IRQ."""
        st = self.pin(gpio)
        before = st.level()
        st.ext = None if level is None else (1 if level else 0)
        self._changed(st, before)

    def set_pin(self, gpio, mode=-1, pull=-1, out=None):
        """The MCU side (machine.Pin): mode, pull, output latch."""
        st = self.pin(gpio)
        before = st.level()
        old_mode = st.mode
        if mode != -1:
            st.mode = mode
        if pull != -1:
            st.pull = pull
        if out is not None:
            st.out = 1 if out else 0
        self._changed(st, before, st.mode != old_mode)

    def observe_pin(self, gpio, fn):
        self.pin(gpio).observers.append(fn)

    # ---- buses and outputs ----------------------------------------------------------------
    def wires(self, scl, sda, create=False):
        w = self.i2c.get((scl, sda))
        if w is None and create:
            w = self.i2c[(scl, sda)] = I2CWires(scl, sda)
        return w

    def attach_i2c(self, scl, sda, part):
        self.wires(scl, sda, create=True).attach(part)

    def attach_i2s(self, sck, ws, sd, part):
        self.i2s_parts[(sck, ws, sd)] = part

    def attach_touch(self, gpio, part):
        self.touch_parts[gpio] = part

    def set_pwm(self, gpio, freq, duty_u16):
        """A PWM output changed (duty_u16 None: the PWM was released)."""
        if duty_u16 is None:
            self.pwm.pop(gpio, None)
        else:
            self.pwm[gpio] = (freq, duty_u16)
        for fn in self._pwm_observers.get(gpio, ()):
            fn(freq, duty_u16)

    def observe_pwm(self, gpio, fn):
        self._pwm_observers.setdefault(gpio, []).append(fn)
