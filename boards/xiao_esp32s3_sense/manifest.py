# ruff: noqa: F821  (include, package and module are the manifest tool's own)
# A MicroPython build of your own with the glasses firmware frozen in: its bytecode,
# strings and constant objects stay in flash, and the heap holds only the data. Read by
# MicroPython's build (tools/manifestfile.py), never imported on the glasses. Build
# (boards/README.md, "Frozen firmware"; $GLASSES is this checkout, as an absolute path):
#   cd micropython/ports/esp32
#   make BOARD=ESP32_GENERIC_S3 BOARD_VARIANT=SPIRAM_OCT \
#        FROZEN_MANIFEST=$GLASSES/boards/xiao_esp32s3_sense/manifest.py
# then flash only main.py over it: `glasses flash --frozen --board xiao_esp32s3_sense`.
include("$(PORT_DIR)/boards/manifest.py")  # what the stock build freezes (asyncio, ...)
package("firmware", base_path="../..")  # firmware/**.py, as the package firmware
module("board.py")  # this board's board.py, as the module board
