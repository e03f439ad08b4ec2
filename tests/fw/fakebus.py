# A register-level I2C bus double for driver tests that run under MicroPython and CPython
# without the simulator: each address holds a byte-addressed register file; reads copy
# from it (auto-increment), writes store into it and are recorded. A missing address raises
# OSError(19) like a NACK; `fail_next` injects OSError(5) (EIO).


class FakeI2C:
    def __init__(self):
        self.mem = {}  # addr -> bytearray(256), or bytearray(512) for 16-bit registers
        self.wide = {}  # addr -> True for parts with 16-bit registers by command code
        self.writes = []  # (addr, reg, bytes)
        self.fail_next = 0

    def add(self, addr, regs=None, words=False):
        m = bytearray(512 if words else 256)
        for reg, val in (regs or {}).items():
            m[reg] = val
        self.mem[addr] = m
        self.wide[addr] = words
        return m

    def set_word(self, addr, code, value):
        """A 16-bit register (LSB first) of a part addressed by command code."""
        m = self.mem[addr]
        m[2 * code] = value & 0xFF
        m[2 * code + 1] = value >> 8

    def word(self, addr, code):
        m = self.mem[addr]
        return m[2 * code] | (m[2 * code + 1] << 8)

    def _dev(self, addr):
        if self.fail_next:
            self.fail_next -= 1
            raise OSError(5, "EIO")
        m = self.mem.get(addr)
        if m is None:
            raise OSError(19, "ENODEV")
        return m

    def readfrom_mem_into(self, addr, reg, buf):
        m = self._dev(addr)
        base = 2 * reg if self.wide[addr] else reg
        for i in range(len(buf)):
            buf[i] = m[(base + i) % len(m)]

    def writeto_mem(self, addr, reg, buf):
        m = self._dev(addr)
        self.writes.append((addr, reg, bytes(buf)))
        base = 2 * reg if self.wide[addr] else reg
        for i in range(len(buf)):
            m[(base + i) % len(m)] = buf[i]

    def last_write(self, addr, reg):
        for a, r, data in reversed(self.writes):
            if a == addr and r == reg:
                return data
        return None


class FakePin:
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self):
        self.level = 0
        self.handler = None
        self.trigger = 0

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0
        return None

    def on(self):
        self.level = 1

    def off(self):
        self.level = 0

    def irq(self, handler=None, trigger=3, hard=False):
        self.handler = handler
        self.trigger = trigger

    def fire(self):
        self.level = 1
        if self.handler is not None:
            self.handler(self)
