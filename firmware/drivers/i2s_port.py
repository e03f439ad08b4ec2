# An I2S line as the board wires it. The machine.I2S object exists only while the line is
# open: an open I2S keeps its clocks (and the part) running, so close it when idle.
#
#   mic = I2SPort(machine.I2S, 0, sck, ws, sd, RX, indicator=privacy_led)
#   i2s = mic.open()     # privacy LED on *before* the microphone is clocked
#   ...
#   mic.close()          # microphone stopped, then the privacy LED off
#
# A speaker port takes `enable` (the amplifier's SD_MODE pin): on while open.
from micropython import const

RX = const(0)
TX = const(1)


class I2SPort:
    def __init__(self, i2s_cls, i2s_id, sck, ws, sd, direction, rate=16000, bits=16,
                 ibuf=8192, enable=None, indicator=None):
        self.i2s_cls = i2s_cls
        self.id = i2s_id
        self.sck = sck
        self.ws = ws
        self.sd = sd
        self.direction = direction
        self.rate = rate
        self.bits = bits
        self.ibuf = ibuf
        self.enable = enable
        self.indicator = indicator
        self.i2s = None
        self.opens = 0

    def open(self):
        if self.i2s is not None:
            return self.i2s
        if self.indicator is not None:
            self.indicator.on()
        c = self.i2s_cls
        mode = c.RX if self.direction == RX else c.TX
        try:
            self.i2s = c(self.id, sck=self.sck, ws=self.ws, sd=self.sd, mode=mode,
                         bits=self.bits, format=c.MONO, rate=self.rate, ibuf=self.ibuf)
        except Exception:
            if self.indicator is not None:
                self.indicator.off()
            raise
        if self.enable is not None:
            self.enable.value(1)
        self.opens += 1
        return self.i2s

    def close(self):
        if self.i2s is None:
            return
        if self.enable is not None:
            self.enable.value(0)
        self.i2s.deinit()
        self.i2s = None
        if self.indicator is not None:
            self.indicator.off()

    def is_open(self):
        return self.i2s is not None
