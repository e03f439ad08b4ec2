# The Seeed XIAO ESP32S3 Sense with the glasses' parts: board.py holds DATA and build()
# (boards/README.md).
