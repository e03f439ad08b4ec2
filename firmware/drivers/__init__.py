# Drivers: one small module per part. Each takes the bus or pin objects the board built
# (nothing is created at import), checks the chip id at init with a message that says what
# to check, and never sleeps or polls without a bound. I/O errors from the bus propagate
# as OSError (ENODEV: the part does not answer; EIO: a bus fault) for the caller to handle.


class DriverError(Exception):
    pass


class PartNotFound(DriverError):
    """The part is missing, or another chip answers at its address."""


_ERRNO_NAMES = {5: "EIO", 19: "ENODEV", 110: "ETIMEDOUT", 116: "ETIMEDOUT"}


def errno_name(e):
    """'ENODEV' for OSError(19), etc. (MicroPython and CPython number errors alike here)."""
    code = e.args[0] if getattr(e, "args", None) else None
    return _ERRNO_NAMES.get(code, str(code))


def not_found(part, addr, e):
    name = errno_name(e)
    what = "no answer on I2C" if name == "ENODEV" else "I2C error"
    return PartNotFound("%s not found at 0x%02X: %s (%s); check wiring"
                        % (part, addr, what, name))


def wrong_id(part, addr, reg_name, got, expected):
    return PartNotFound("%s not found at 0x%02X: %s read 0x%02X, expected 0x%02X; check wiring"
                        % (part, addr, reg_name, got, expected))
