"""Base classes for virtual parts on the simulated I2C bus.

An I2C part has two sides, like Zephyr's bus emulators:
- the bus side the `machine.I2C` mirror calls: `i2c_write(data)` for a write transfer
  (register address first) and `i2c_read(n)` for a read transfer, plus the ack
  (`present`) and injected bus errors;
- a high-level side for tests and scenarios (head motion, taps, wear, battery...), defined by
  each part.

Fault injection: `disconnect()` makes the part stop acking its address (the driver sees
OSError(ENODEV)), `reconnect()` brings it back (by default as after a power cycle: its
registers are back to their reset values); `inject_bus_error(count)` makes the next
transfers fail with OSError(EIO).
"""
import errno


def noise(seed, k):
    """A deterministic value in [-1, 1) for (seed, k): a splitmix64 step, no state."""
    z = (seed * 0x9E3779B97F4A7C15 + k * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) \
        & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return (z >> 11) / float(1 << 52) - 1.0


def part_seed(world, name):
    """A per-part seed derived from the world's seed and the part's name."""
    h = 0
    for ch in name:
        h = (h * 131 + ord(ch)) & 0xFFFFFFFF
    return (world.seed * 1000003 + h) & 0xFFFFFFFFFFFF


class Part:
    """Anything the world wires to the board; `name` is its name in the board's DATA."""

    kind = "part"

    def __init__(self, world, name):
        self.world = world
        self.name = name
        self.seed = part_seed(world, name)

    def note(self, text):
        self.world.note("part", "%s: %s" % (self.name, text))

    def describe(self):
        """One line of state for the live view."""
        return ""


class I2CPart(Part):
    def __init__(self, world, name, addr):
        super().__init__(world, name)
        self.addr = addr
        self.present = True
        self._bus_errors = 0  # next transfers that fail with EIO (-1: until cleared)
        self.transfers = 0

    # ---- fault injection -----------------------------------------------------------------
    def disconnect(self):
        self.present = False
        self.note("stops answering on I2C (fault injected)")

    def reconnect(self, power_cycled=True):
        if power_cycled:
            self.power_on_reset()
        self.present = True
        self.note("answers again%s" % (" (after a power cycle)" if power_cycled else ""))

    def inject_bus_error(self, count=1):
        """The next `count` transfers to this part fail with EIO (-1: until cleared)."""
        self._bus_errors = count

    def take_bus_error(self):
        if self._bus_errors:
            if self._bus_errors > 0:
                self._bus_errors -= 1
            return errno.EIO
        self.transfers += 1
        return 0

    def power_on_reset(self):
        """Registers back to their reset values (parts override)."""

    # ---- bus side (override) -------------------------------------------------------------
    def i2c_write(self, data):
        raise NotImplementedError

    def i2c_read(self, n):
        raise NotImplementedError


class RegisterPart(I2CPart):
    """A part with 8-bit registers and an auto-incrementing register pointer: a write
    transfer sets the pointer then writes bytes; a read transfer reads from the pointer.
    `refresh()` runs before every read transfer so time-dependent registers are current
    (and multi-byte values are latched together)."""

    RESET = {}  # reg -> value after power-on

    def __init__(self, world, name, addr, size=256):
        super().__init__(world, name, addr)
        self.regs = bytearray(size)
        self.ptr = 0
        self.power_on_reset()

    def power_on_reset(self):
        self.regs[:] = bytes(len(self.regs))
        for reg, val in self.RESET.items():
            self.regs[reg] = val
        self.ptr = 0

    def auto_increment(self):
        return True

    def i2c_write(self, data):
        if not data:
            return
        self.ptr = data[0]
        for b in data[1:]:
            self.write_reg(self.ptr, b)
            if self.auto_increment():
                self.ptr = (self.ptr + 1) % len(self.regs)

    def i2c_read(self, n):
        self.refresh()
        out = bytearray(n)
        for i in range(n):
            out[i] = self.read_reg(self.ptr)
            if self.auto_increment():
                self.ptr = (self.ptr + 1) % len(self.regs)
        return bytes(out)

    def refresh(self):
        pass

    def read_reg(self, reg):
        return self.regs[reg]

    def write_reg(self, reg, value):
        self.regs[reg] = value
