# Raspberry Pi Pico 2 W (RP2350: Cortex-M33, 520 KB SRAM, 4 MB flash; CYW43439 radio) with
# the glasses' add-on parts, minus the touch pads (the RP2350 has no touch peripheral).
# A smaller board so that capability differences are exercised: no touch/swipe, no
# lightsleep while connected, viper for armv7emsp. See boards/README.md.
from micropython import const

from firmware.hw import Board, try_part

NAME = "pico2w_dev"

_I2C_HZ = const(400000)
_STORE_BYTES = const(131072)

DATA = {
    "name": NAME,
    "title": "Raspberry Pi Pico 2 W + I2S mic, I2S amp, IMU, proximity, fuel gauge",
    "port": "rp2",
    "mcu": "RP2350A",
    "arch": "armv7emsp",
    "cpu_hz": 150000000,
    "ram_bytes": 520 * 1024,
    "psram_bytes": 0,
    "flash_bytes": 4 * 1024 * 1024,
    "gpios": tuple(range(0, 30)),
    "touch_gpios": (),
    "adc_gpios": (26, 27, 28),
    # the LED hangs off the CYW43 radio chip (WL_GPIO0), not an RP2350 GPIO
    "pin_names": {"LED": 64, "WL_GPIO0": 64},
    "i2c_ids": (0, 1),
    "i2c_pins": {0: ((0, 4, 8, 12, 16, 20), (1, 5, 9, 13, 17, 21)),
                 1: ((2, 6, 10, 14, 18, 26), (3, 7, 11, 15, 19, 27))},
    "i2s_ids": (0, 1),
    "i2s_ws_follows_sck": True,  # rp2's PIO I2S needs ws = sck + 1
    "pwm_freq_range": (8, 62500000),
    "caps": ("i2s_mic", "i2s_speaker", "imu", "imu_tap_irq", "proximity", "fuel_gauge",
             "led", "privacy_led", "haptic", "ble", "lightsleep", "viper_armv7emsp"),
    "i2c": {"id": 0, "scl": 5, "sda": 4, "freq": _I2C_HZ},
    "parts": {
        "imu": {"part": "lsm6dsox", "addr": 0x6A, "int1": 6},
        "prox": {"part": "vcnl4040", "addr": 0x60},
        "gauge": {"part": "max17048", "addr": 0x36},
        "mic": {"part": "ics43434", "i2s": 0, "sck": 10, "ws": 11, "sd": 12, "rate": 16000,
                "bits": 16, "ibuf": 16000},
        "speaker": {"part": "max98357a", "i2s": 1, "sck": 18, "ws": 19, "sd": 20,
                    "sd_mode": 21, "rate": 16000, "bits": 16, "ibuf": 16000},
        "led": {"part": "led", "pin": 64, "ma": 1.0},
        "privacy_led": {"part": "led", "pin": 8, "ma": 1.0},
        "haptic": {"part": "erm_motor", "pin": 7, "freq": 1000, "ma": 60.0},
    },
    # estimates for the Pico 2 W (RP2350 at 150 MHz, CYW43 powered down unless in use)
    "currents_ma": {
        "active": 25.0,
        "idle": 14.0,  # WFI in time.sleep_ms
        "lightsleep": 1.3,  # clocks gated, RAM retained
        "deepsleep": 1.3,  # rp2's deepsleep is lightsleep followed by a reset
        "board": 0.05,  # the Pico's buck-boost regulator, always
        "radio_adv": 1.5,
        "radio_connected": 6.0,
    },
    "active_us_per_wake": 1000,
    "battery_mah": 500,
    "battery": "2 x 250 mAh 1S LiPo in parallel, on a LiPo charger add-on",
    "charge_ma": 200,
    "wdt_max_ms": 8388,  # the RP2350 watchdog's limit
}


def build(log=None, store_root="/data", store_bytes=_STORE_BYTES):
    import machine
    from machine import Pin

    from firmware.drivers.haptic import Haptic
    from firmware.drivers.i2s_port import RX, TX, I2SPort
    from firmware.drivers.led import Led
    from firmware.drivers.lsm6dsox import LSM6DSOX
    from firmware.drivers.max17048 import MAX17048
    from firmware.drivers.vcnl4040 import VCNL4040
    from firmware.runtime.store import Store

    d = DATA
    p = d["parts"]
    b = Board(NAME, caps=d["caps"], ram_bytes=d["ram_bytes"], flash_bytes=d["flash_bytes"],
              pins=d["pin_names"], currents=d["currents_ma"], battery_mah=d["battery_mah"],
              log=log, options=d.get("options"))
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
    b.led = try_part(b, "led", lambda: Led(Pin("LED", Pin.OUT)))
    b.privacy_led = try_part(b, "privacy_led",
                             lambda: Led(Pin(p["privacy_led"]["pin"], Pin.OUT)))
    hp = p["haptic"]
    b.haptic = try_part(b, "haptic", lambda: Haptic(machine.PWM(Pin(hp["pin"]), freq=hp["freq"],
                                                                duty_u16=0)))
    m = p["mic"]
    b.mic = try_part(b, "mic", lambda: I2SPort(machine.I2S, m["i2s"], Pin(m["sck"]),
                                               Pin(m["ws"]), Pin(m["sd"]), RX, rate=m["rate"],
                                               bits=m["bits"], ibuf=m["ibuf"]))
    s = p["speaker"]
    b.speaker = try_part(b, "speaker", lambda: I2SPort(
        machine.I2S, s["i2s"], Pin(s["sck"]), Pin(s["ws"]), Pin(s["sd"]), TX, rate=s["rate"],
        bits=s["bits"], ibuf=s["ibuf"], enable=Pin(s["sd_mode"], Pin.OUT, value=0)))
    b.store = try_part(b, "store", lambda: Store(store_root, store_bytes))
    if b.has("ble"):
        import bluetooth
        b.ble = try_part(b, "ble", bluetooth.BLE)
    return b
