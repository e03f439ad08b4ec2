# Raspberry Pi Pico 2 W (RP2350: Cortex-M33, 520 KB SRAM, 4 MB flash; CYW43439 radio) with
# the glasses' add-on parts, minus the touch pads (the RP2350 has no touch peripheral).
# A smaller board so that capability differences are exercised: no touch/swipe, no
# lightsleep while connected, viper for armv7emsp. See boards/README.md.
from micropython import const

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
    # The GC heap of the stock RPI_PICO2_W build: all RAM the linker leaves, fixed (no
    # growth); boards/README.md, "Memory", derives it. The firmware is held to it.
    "heap_bytes": 457024,
    "heap_stock_bytes": 457024,
    # what the whole firmware leaves of it at its peak (make bench, 32-bit): its code
    # imported from .mpy files (the stock build), or kept in flash (ROMFS)
    "heap_left_bytes": {"mpy": 93000, "flash": 240000},
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
        "led": {"part": "led", "pin": 64, "pin_name": "LED", "ma": 1.0},
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
    # the 3.3 V rail: the Pico 2 W's RT6154 buck-boost converter from VSYS (the cell)
    # holds 3.3 V down to 1.8 V in, so the board runs until the cell's protection circuit
    # cuts the pack; machine.reset_cause() then says PWRON_RESET. sim/supply.py.
    "supply": {"rail_v": 3.3, "min_in_v": 1.8, "brownout_v": 2.5, "release_v": 2.7,
               "reset_cause": 1},
    "wdt_max_ms": 8388,  # the RP2350 watchdog's limit
    # settings the firmware reads (board.options): no touch pads, so no pairing gesture:
    # the pairing window is open while no phone is bonded (docs/security.md)
    "options": {"pairing_gesture": "none on this board: make the glasses forget every "
                                   "phone with `glasses forget --all` from the bonded one"},
}


def build(log=None, store_root="/data", store_bytes=_STORE_BYTES):
    """Bring up everything this board has; a part that fails is None (see board.missing)."""
    from firmware.board_build import build_board
    return build_board(DATA, log, store_root, store_bytes)
