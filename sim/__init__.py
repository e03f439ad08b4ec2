"""The board simulator: the firmware's HAL (machine, bluetooth, micropython, time) mirrored
in CPython, so the same firmware/ and boards/ files run on a desktop."""
