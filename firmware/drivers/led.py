# An LED on a GPIO (active high, or active low like the XIAO ESP32S3's user LED).


class Led:
    def __init__(self, pin, active_low=False):
        self.pin = pin
        self.active_low = active_low
        self._on = False
        self.off()

    def value(self, on=None):
        if on is None:
            return self._on
        self._on = bool(on)
        self.pin.value(0 if self._on == self.active_low else 1)
        return None

    def on(self):
        self.value(True)

    def off(self):
        self.value(False)

    def toggle(self):
        self.value(not self._on)

    def is_on(self):
        return self._on
