# ruff: noqa: F821  (include, package and module are the manifest tool's own)
# A MicroPython build of your own with the glasses firmware frozen in: its bytecode,
# strings and constant objects stay in flash, and the heap holds only the data. Read by
# MicroPython's build (tools/manifestfile.py), never imported on the glasses. Build
# (boards/README.md, "Frozen firmware"; $GLASSES is this checkout, as an absolute path):
#   cd micropython/ports/rp2
#   make BOARD=RPI_PICO2_W submodules
#   make BOARD=RPI_PICO2_W BUILD=build-glasses \
#        FROZEN_MANIFEST=$GLASSES/boards/pico2w_dev/manifest.py
# then flash only main.py over it: `glasses flash --frozen --board pico2w_dev`.
include("$(BOARD_DIR)/manifest.py")  # what the stock build freezes (asyncio, aioble, ...)
package("firmware", base_path="../..")  # firmware/**.py, as the package firmware
module("board.py")  # this board's board.py, as the module board
