"""The `machine` mirror's pins: Pin (modes, pulls, edge IRQs) and Signal, on the active
simulated world's GPIO state. Re-exported by sim/mirror/machine.py; the other peripherals
take their pins through _gpio_of."""
from sim import world as _world


def _w():
    return _world.current()


class _PinIRQ:
    def __init__(self, st):
        self._st = st

    def trigger(self):
        return self._st.irq_trigger

    def flags(self):
        return self._st.irq_trigger


class Pin:
    IN = _world.MODE_IN
    OUT = _world.MODE_OUT
    OPEN_DRAIN = _world.MODE_OPEN_DRAIN
    PULL_DOWN = _world.PULL_DOWN
    PULL_UP = _world.PULL_UP
    PULL_HOLD = 4
    IRQ_RISING = _world.IRQ_RISING
    IRQ_FALLING = _world.IRQ_FALLING
    WAKE_LOW = 4
    WAKE_HIGH = 5
    DRIVE_0 = 0
    DRIVE_1 = 1
    DRIVE_2 = 2
    DRIVE_3 = 3

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=None, hold=None):
        w = _w()
        self._world = w
        self._id = id
        self._gpio = w.resolve_pin(id)
        self._st = w.pin(self._gpio)
        self.init(mode, pull, value=value, drive=drive, hold=hold)

    def init(self, mode=-1, pull=-1, *, value=None, drive=None, hold=None):
        if mode not in (-1, None, self.IN, self.OUT, self.OPEN_DRAIN):
            raise ValueError("invalid pin mode")
        if pull not in (-1, None, self.PULL_UP, self.PULL_DOWN, self.PULL_HOLD):
            raise ValueError("invalid pull")
        out_only = self._world.data.get("input_only_gpios", ())
        if mode in (self.OUT, self.OPEN_DRAIN) and self._gpio in out_only:
            raise ValueError("pin can only be input")
        self._world.set_pin(self._gpio, -1 if mode is None else mode, pull, value)

    def value(self, x=None):
        if x is None:
            return self._st.level()
        self._world.set_pin(self._gpio, out=x)
        return None

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def toggle(self):
        self.value(0 if self._st.out else 1)

    def mode(self, mode=None):
        if mode is None:
            return self._st.mode if self._st.mode is not None else self.IN
        self.init(mode)
        return None

    def pull(self, pull=-1):
        if pull == -1:
            return self._st.pull
        self.init(pull=pull)
        return None

    def drive(self, drive=None):
        return self.DRIVE_2 if drive is None else None

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, *, priority=1, wake=None,
            hard=False):
        """handler(pin) runs when a part drives an edge that matches `trigger`; the
        firmware's scheduler is then kicked. handler=None disables the IRQ."""
        st = self._st
        if handler is not None and not callable(handler):
            raise TypeError("handler must be None or callable")
        if trigger & ~(self.IRQ_RISING | self.IRQ_FALLING):
            raise ValueError("bad trigger")
        st.irq_handler = handler
        st.irq_trigger = trigger if handler is not None else 0
        st.irq_pin = self
        return _PinIRQ(st)

    def __repr__(self):
        return "Pin(%s)" % (self._gpio,)


class Signal:
    def __init__(self, pin, *args, invert=False, **kw):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin, *args, **kw)
        self._inv = 1 if invert else 0

    def value(self, x=None):
        if x is None:
            return self._pin.value() ^ self._inv
        self._pin.value((1 if x else 0) ^ self._inv)
        return None

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


def _gpio_of(p):
    if isinstance(p, Pin):
        return p._gpio
    return _w().resolve_pin(p)
