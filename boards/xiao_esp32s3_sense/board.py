# Seeed XIAO ESP32S3 Sense (ESP32-S3R8: 512 KB SRAM, 8 MB PSRAM, 8 MB flash) with the
# glasses' add-on parts. See boards/README.md for the wiring, the MicroPython features each
# part relies on, and the limits (no PDM mic from MicroPython, no lightsleep while a BLE
# connection is up).
#
# DATA is the board as data (read by the firmware and by the simulator); build() creates
# the HAL objects and drivers and returns a firmware.hw.Board. Nothing happens at import.
from micropython import const

NAME = "xiao_esp32s3_sense"

_I2C_HZ = const(400000)
_STORE_BYTES = const(262144)

DATA = {
    "name": NAME,
    "title": "Seeed XIAO ESP32S3 Sense (OV2640 camera) + I2S mic, I2S amp, IMU, proximity, "
             "fuel gauge",
    "port": "esp32",
    "mcu": "ESP32-S3R8",
    "arch": "xtensawin",
    "cpu_hz": 160000000,
    "cpu_hz_allowed": (20000000, 40000000, 80000000, 160000000, 240000000),
    # the clock while only the BLE connection keeps the CPU awake (firmware/hw.py): the
    # lowest one the radio allows (ESP-IDF: Bluetooth needs the CPU at 80 MHz or more)
    "cpu_hz_idle": 80000000,
    "ram_bytes": 512 * 1024,
    "psram_bytes": 8 * 1024 * 1024,
    # The GC heap (boards/README.md, "Memory"): the stock ESP32_GENERIC_S3-SPIRAM_OCT build
    # (needed for this module's octal PSRAM) starts at 64,000 bytes and grows into PSRAM up
    # to about 8.3 MB; without PSRAM the heap is about 252 KB before BLE. The firmware is
    # held to heap_bytes: the Pico 2 W's 457,024 (the smallest stock heap of the boards),
    # so it never leans on PSRAM; heap_internal_bytes is the target for code in flash.
    "heap_bytes": 457024,
    "heap_stock_bytes": 64000 + 8257536,
    "heap_internal_bytes": 64000 + 188352,
    # what the whole firmware leaves of heap_bytes at its peak (make bench, 32-bit): its
    # code imported from .mpy files (a stock build), or kept in flash (ROMFS)
    "heap_left_bytes": {"mpy": 89000, "flash": 207000},
    # the app config this board chooses (firmware/app.py, firmware/voice/settings.py):
    # buffers sized for the internal-RAM target (data after start <= 64 KB): a 2 s query
    # kept offline, a 320 ms capture ring, a jitter buffer for 20 ms ADPCM packets (what
    # the phone sends; a PCM16 packet would be refused)
    "config": {"voice_offline_bytes": 16384, "voice_ring_frames": 16,
               "voice_jitter_packet_bytes": 166},
    "flash_bytes": 8 * 1024 * 1024,
    # every GPIO of the ESP32-S3 (22-25 do not exist); header pins are in pin_names
    "gpios": tuple(range(0, 22)) + tuple(range(26, 49)),
    "touch_gpios": tuple(range(1, 15)),
    "adc_gpios": tuple(range(1, 21)),
    "pin_names": {"D0": 1, "D1": 2, "D2": 3, "D3": 4, "D4": 5, "D5": 6, "D6": 43,
                  "D7": 44, "D8": 7, "D9": 8, "D10": 9, "LED": 21},
    "i2c_ids": (0, 1),
    "i2s_ids": (0, 1),
    "pwm_freq_range": (1, 40000000),
    "touch_rises": True,  # ESP32-S3: the raw touch value rises with a finger
    "caps": ("i2s_mic", "i2s_speaker", "imu", "imu_tap_irq", "proximity", "fuel_gauge",
             "touch", "swipe", "led", "privacy_led", "haptic", "ble", "lightsleep",
             "deepsleep", "touch_wake", "viper_xtensawin",
             "camera"),
    # the sensors share the camera's SCCB lines (GPIO39/40, the JTAG pads MTCK/MTDO on the
    # XIAO's back); the camera driver takes the same machine.I2C (boards/README.md)
    "i2c": {"id": 0, "scl": 39, "sda": 40, "freq": _I2C_HZ},
    "parts": {
        "imu": {"part": "lsm6dsox", "addr": 0x6A, "int1": 1},
        "prox": {"part": "vcnl4040", "addr": 0x60},
        "gauge": {"part": "max17048", "addr": 0x36},
        "mic": {"part": "ics43434", "i2s": 0, "sck": 7, "ws": 8, "sd": 9, "rate": 16000,
                "bits": 16, "ibuf": 16000},
        "speaker": {"part": "max98357a", "i2s": 1, "sck": 5, "ws": 6, "sd": 41,
                    "sd_mode": 42, "rate": 16000, "bits": 16, "ibuf": 16000},
        "touch": ({"part": "touchpad", "pin": 3, "label": "front"},
                  {"part": "touchpad", "pin": 4, "label": "back"}),
        "led": {"part": "led", "pin": 21, "active_low": True, "ma": 1.0},
        "privacy_led": {"part": "led", "pin": 43, "ma": 1.0},
        "haptic": {"part": "erm_motor", "pin": 2, "freq": 1000, "ma": 60.0},
        # the Sense's OV2640 on its fixed DVP lines (camera_pins.h of micropython-camera-API,
        # MICROPY_CAMERA_MODEL_XIAO_ESP32S3; no PWDN / RESET lines); SCCB on the I2C bus
        "camera": {"part": "ov2640", "xclk": 10, "xclk_hz": 20000000, "pclk": 13,
                   "vsync": 38, "href": 47, "data": (15, 17, 18, 16, 14, 12, 11, 48),
                   "sda": 40, "scl": 39, "frame": "VGA", "quality": 80,
                   "ma": 40.0, "idle_ma": 0.6},
        # white LED by the lens, lit for the whole capture (bystanders see it)
        "capture_led": {"part": "led", "pin": 44, "ma": 3.0},
    },
    # mA per power state (ESP32-S3 datasheet figures; see boards/README.md)
    "currents_ma": {
        "active": 40.0,  # CPU at 160 MHz running MicroPython, radio off
        "idle": 18.0,  # modem-sleep: CPU waiting in time.sleep_ms (DFS off)
        "lightsleep": 0.24,  # digital core and RAM retained, RTC timer / GPIO wake
        "deepsleep": 0.008,  # RTC timer wake
        "board": 0.006,  # XIAO's LDO and charger quiescent, always
        "radio_adv": 0.6,  # BLE advertising every 500 ms, on top of the state
        "radio_connected": 3.0,  # BLE connection events at 30 ms, on top of the state
    },
    # the active and idle (modem-sleep) currents at the other clocks machine.freq() can
    # set, scaled from those at 160 MHz by Espressif's modem-sleep figures for the
    # ESP32-S2's single core (22 / 17 / 14 mA at 240 / 160 / 80 MHz; the ESP32-S3
    # datasheet gives no per-clock idle figure): an estimate, not a measurement
    "currents_ma_at_mhz": {80: {"active": 32.9, "idle": 14.8},
                           240: {"active": 51.8, "idle": 23.3}},
    "active_us_per_wake": 1500,  # wake from lightsleep (~0.3 ms) + a typical slice
    "battery_mah": 500,  # 2 x 250 mAh LiPo in parallel (one per temple)
    "battery": "2 x 250 mAh 1S LiPo in parallel",
    "charge_ma": 100,  # the XIAO's charger
    # the 3.3 V rail: the XIAO's LDO from the cell (it drops out about 0.2 V above the
    # rail), the ESP32-S3's brown-out detector at ESP-IDF's default level 7 (about 2.5 V),
    # released 0.2 V higher; after a brown-out machine.reset_cause() says PWRON_RESET
    # (MicroPython's esp32 port maps ESP_RST_BROWNOUT to it). sim/supply.py models it.
    "supply": {"rail_v": 3.3, "dropout_v": 0.2, "brownout_v": 2.5, "release_v": 2.7,
               "reset_cause": 1},
    "wdt_max_ms": 0,
    # GAP Appearance (0x2A01) as this board's recommended MicroPython build serves it:
    # eye-glasses, with sdkconfig.board (CONFIG_BT_NIMBLE_SVC_GAP_APPEARANCE); a stock
    # ESP32_GENERIC_S3 build serves 0 (boards/README.md). The scan response says 0x01C0.
    "gap_appearance": 0x01C0,
    # settings the firmware reads (board.options): the wearer's pairing gesture opens the
    # pairing window (docs/security.md) after both pads are held pairing_hold_ms
    "options": {"pairing_gesture": "hold both touch pads for 2 s", "pairing_hold_ms": 2000,
                # the photo gesture (firmware/camera/service.py): a long press on that pad
                "photo_gesture": "long_press back"},
}


def build(log=None, store_root="/data", store_bytes=_STORE_BYTES):
    """Bring up everything this board has; a part that fails is None (see board.missing)."""
    from firmware.board_build import build_board
    return build_board(DATA, log, store_root, store_bytes)
