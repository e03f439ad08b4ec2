"""The `machine` mirror's I2C and SoftI2C: whole and register transfers to the parts wired
to a pair of pins. No part acks the address -> OSError(ENODEV); a bus fault the part
reports -> that OSError. Re-exported by sim/mirror/machine.py."""
import errno

from sim.mirror._machine_pin import _gpio_of, _w


def _oserror(code):
    return OSError(code, errno.errorcode.get(code, str(code)))


class I2C:
    def __init__(self, id=-1, *, scl=None, sda=None, freq=400000, timeout=50000):
        w = _w()
        self._world = w
        ids = w.data.get("i2c_ids", (0, 1))
        if id not in ids:
            raise ValueError("I2C(%s) doesn't exist" % (id,))
        self._id = id
        self.init(scl=scl, sda=sda, freq=freq, timeout=timeout)

    def init(self, *, scl=None, sda=None, freq=400000, timeout=50000):
        w = self._world
        default = w.data.get("i2c_default", {}).get(self._id, (None, None))
        scl = _gpio_of(scl) if scl is not None else default[0]
        sda = _gpio_of(sda) if sda is not None else default[1]
        if scl is None or sda is None:
            raise ValueError("I2C(%d) needs scl and sda pins on this board" % self._id)
        allowed = w.data.get("i2c_pins", {}).get(self._id)
        if allowed is not None:  # ports whose I2C units sit on fixed pins (rp2)
            if sda not in allowed[0]:
                raise ValueError("bad SDA pin")
            if scl not in allowed[1]:
                raise ValueError("bad SCL pin")
        if freq <= 0:
            raise ValueError("freq must be > 0")
        self._scl = scl
        self._sda = sda
        self.freq = freq

    def _part(self, addr):
        if not 0 <= addr < 0x80:
            raise ValueError("invalid I2C address")
        wires = self._world.wires(self._scl, self._sda)
        if wires is not None:
            wires.transfers += 1
        part = wires.parts.get(addr) if wires is not None else None
        if part is None or not part.present:
            raise _oserror(errno.ENODEV)
        code = part.take_bus_error()
        if code:
            raise _oserror(code)
        return part

    def scan(self):
        wires = self._world.wires(self._scl, self._sda)
        if wires is None:
            return []
        return sorted(a for a, p in wires.parts.items() if p.present)

    # whole transfers
    def writeto(self, addr, buf, stop=True):
        self._part(addr).i2c_write(bytes(buf))
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        data = b"".join(bytes(b) for b in vector)
        self._part(addr).i2c_write(data)
        return len(data)

    def readfrom_into(self, addr, buf, stop=True):
        data = self._part(addr).i2c_read(len(buf))
        memoryview(buf).cast("B")[:] = data

    def readfrom(self, addr, nbytes, stop=True):
        return bytes(self._part(addr).i2c_read(nbytes))

    # register (memory) transfers
    @staticmethod
    def _mem(memaddr, addrsize):
        if addrsize == 8:
            return bytes((memaddr & 0xFF,))
        if addrsize == 16:
            return bytes(((memaddr >> 8) & 0xFF, memaddr & 0xFF))
        raise ValueError("addrsize must be 8 or 16")

    def writeto_mem(self, addr, memaddr, buf, *, addrsize=8):
        self._part(addr).i2c_write(self._mem(memaddr, addrsize) + bytes(buf))

    def readfrom_mem_into(self, addr, memaddr, buf, *, addrsize=8):
        part = self._part(addr)
        part.i2c_write(self._mem(memaddr, addrsize))  # repeated start, then read
        memoryview(buf).cast("B")[:] = part.i2c_read(len(buf))

    def readfrom_mem(self, addr, memaddr, nbytes, *, addrsize=8):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf, addrsize=addrsize)
        return bytes(buf)


class SoftI2C(I2C):
    def __init__(self, scl, sda, *, freq=400000, timeout=50000):
        self._world = _w()
        self._id = -1
        self._scl = _gpio_of(scl)
        self._sda = _gpio_of(sda)
        self.freq = freq
