# The firmware version: one place, read by the build, the flasher and the update packager.
VERSION = "0.1.0"
# The security counter: raised by a release that fixes a security hole. The glasses keep
# the highest they ran healthy, and refuse an update package below it unless the wearer
# allows it (docs/security.md, docs/ota.md).
SECURITY = 2  # 2: consent for pairing (1: any central could bond)
