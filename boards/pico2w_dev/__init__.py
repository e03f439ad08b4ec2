# The Raspberry Pi Pico 2 W dev board: board.py holds DATA and build() (boards/README.md).
