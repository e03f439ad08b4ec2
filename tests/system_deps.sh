#!/usr/bin/env bash
# What `make test` needs from the system beyond python3, node/npm and make: the flasher's
# tests run real MicroPython on an emulated BBC micro:bit (qemu-system-arm and Debian's
# firmware-microbit-micropython); OpenCV (opencv-python, under "read this"'s OCR) loads
# the system's libGL and GLib. Installed with apt when running as root; otherwise the one
# command to run is printed and the run stops.
set -euo pipefail
HEX=/usr/share/firmware-microbit-micropython/firmware.hex
need=()
command -v qemu-system-arm >/dev/null 2>&1 || need+=(qemu-system-arm)
[ -f "$HEX" ] || need+=(firmware-microbit-micropython)
libs=$(ldconfig -p 2>/dev/null || true)
grep -q 'libGL\.so\.1 ' <<<"$libs" || need+=(libgl1)
grep -q 'libglib-2\.0\.so\.0 ' <<<"$libs" || need+=(libglib2.0-0)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "make test: installing ${need[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
  exit 0
fi
echo "make test needs ${need[*]} for the flasher's tests (an emulated micro:bit) and" \
  "OpenCV; run:" >&2
echo "    sudo apt-get install ${need[*]}" >&2
exit 2
