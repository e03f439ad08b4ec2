# A board's parts from its DATA (boards/<name>/board.py): build_board() makes the
# firmware.hw.Board with every part DATA["parts"] lists, each through try_part (a part that
# fails is None and named in board.missing; the rest of the board still comes up).
# Pins are numbers, or names where the port wants one ("pin_name", e.g. the Pico W's "LED",
# which hangs off the radio chip). Nothing happens at import.
from firmware.hw import Board, try_part


def build_board(d, log=None, store_root="/data", store_bytes=131072, radio=None):
    """The Board for DATA d. radio: what makes the BLE object (default bluetooth.BLE)."""
    import machine
    from machine import Pin

    from firmware.drivers.haptic import Haptic
    from firmware.drivers.i2s_port import RX, TX, I2SPort
    from firmware.drivers.led import Led
    from firmware.drivers.lsm6dsox import LSM6DSOX
    from firmware.drivers.max17048 import MAX17048
    from firmware.drivers.vcnl4040 import VCNL4040
    from firmware.runtime.store import Store

    p = d["parts"]
    b = Board(d["name"], caps=d["caps"], ram_bytes=d["ram_bytes"],
              flash_bytes=d["flash_bytes"], pins=d["pin_names"], currents=d["currents_ma"],
              battery_mah=d["battery_mah"], log=log, options=d.get("options"),
              config=d.get("config"), heap_bytes=d.get("heap_bytes", 0),
              cpu_hz=d.get("cpu_hz", 0), cpu_hz_idle=d.get("cpu_hz_idle", 0))
    bus = d["i2c"]
    b.i2c = try_part(b, "i2c", lambda: machine.I2C(bus["id"], scl=Pin(bus["scl"]),
                                                   sda=Pin(bus["sda"]), freq=bus["freq"]))
    i2c = b.i2c
    if i2c is not None:
        imu = p["imu"]
        b.imu = try_part(b, "imu", lambda: LSM6DSOX(i2c, imu["addr"],
                                                    int1=Pin(imu["int1"], Pin.IN)))
        b.prox = try_part(b, "prox", lambda: VCNL4040(i2c, p["prox"]["addr"]))
        b.gauge = try_part(b, "gauge", lambda: MAX17048(i2c, p["gauge"]["addr"]))
    led = p["led"]
    b.led = try_part(b, "led", lambda: Led(Pin(led.get("pin_name", led["pin"]), Pin.OUT),
                                           active_low=led.get("active_low", False)))
    b.privacy_led = try_part(b, "privacy_led",
                             lambda: Led(Pin(p["privacy_led"]["pin"], Pin.OUT)))
    hp = p["haptic"]
    b.haptic = try_part(b, "haptic", lambda: Haptic(machine.PWM(Pin(hp["pin"]), freq=hp["freq"],
                                                                duty_u16=0)))
    pads = []
    for i, t in enumerate(p.get("touch", ())):
        pad = try_part(b, "touch%d" % i, _touch_maker(machine, Pin, t, d["touch_rises"]))
        if pad is not None:
            pads.append(pad)
    b.touch = tuple(pads)
    m = p["mic"]
    b.mic = try_part(b, "mic", lambda: I2SPort(machine.I2S, m["i2s"], Pin(m["sck"]),
                                               Pin(m["ws"]), Pin(m["sd"]), RX, rate=m["rate"],
                                               bits=m["bits"], ibuf=m["ibuf"]))
    s = p["speaker"]
    b.speaker = try_part(b, "speaker", lambda: I2SPort(
        machine.I2S, s["i2s"], Pin(s["sck"]), Pin(s["ws"]), Pin(s["sd"]), TX, rate=s["rate"],
        bits=s["bits"], ibuf=s["ibuf"], enable=Pin(s["sd_mode"], Pin.OUT, value=0)))
    b.store = try_part(b, "store", lambda: Store(store_root, store_bytes))
    if "camera" in p:
        _camera(b, p)
    if b.has("ble"):
        if radio is None:
            import bluetooth
            radio = bluetooth.BLE
        b.ble = try_part(b, "ble", radio)
    return b


def _camera(b, p):
    """The camera and its capture LED (firmware/drivers/camera.py): a firmware without
    the camera module reports the camera missing, naming the firmware it needs."""
    from machine import Pin

    from firmware.drivers.camera import Camera
    from firmware.drivers.led import Led
    cl = p.get("capture_led")
    if cl is not None:
        b.capture_led = try_part(b, "capture_led", lambda: Led(Pin(cl["pin"], Pin.OUT)))
    spec = p["camera"]
    b.camera = try_part(b, "camera", lambda: Camera(spec, b.i2c))


def _touch_maker(machine, Pin, spec, rises):
    from firmware.drivers.touch import TouchSensor

    def make():
        pad = TouchSensor(machine.TouchPad(Pin(spec["pin"])), rises=rises, label=spec["label"])
        pad.calibrate()
        return pad
    return make
