"""Mirror of MicroPython's `esp32` module (the esp32 port's own), as far as the firmware
uses it: the deep-sleep wake sources, acting on the active simulated world."""
from sim.mirror._machine_pin import _w


def _esp32():
    w = _w()
    if w.port != "esp32":
        raise OSError("the esp32 module exists only on the esp32 port (this board: %s)"
                      % w.port)
    return w


def wake_on_touch(wake):
    """A touch pad wakes the board from deep sleep (MicroPython: esp32.wake_on_touch)."""
    w = _esp32()
    if "touch" not in w.data.get("caps", ()):
        raise ValueError("this board has no touch sensor")
    w.deep_wake_touch = bool(wake)
