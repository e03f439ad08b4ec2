# The firmware version: one place, read by the build, the flasher and the update packager.
VERSION = "0.1.0"
