"""Virtual parts, one module per part, and how a board's DATA wires them into a world.

Each entry of a board's DATA["parts"] names a part kind ("part": "lsm6dsox", ...); KINDS
maps the kind to its class, whose `wire(world, name, spec, **options)` creates the part
and attaches it where the spec says (I2C address on the board's bus, pins, I2S lines).
Adding a part: write sim/devices/<part>.py with a class and `wire`, add it to KINDS.
"""
import importlib

KINDS = {
    "lsm6dsox": "sim.devices.lsm6dsox:LSM6DSOX",
    "vcnl4040": "sim.devices.vcnl4040:VCNL4040",
    "max17048": "sim.devices.max17048:MAX17048",
    "ics43434": "sim.devices.mic:I2SMic",
    "inmp441": "sim.devices.mic:I2SMic",
    "max98357a": "sim.devices.speaker:MAX98357A",
    "touchpad": "sim.devices.touch:TouchElectrode",
    "led": "sim.devices.outputs:LED",
    "erm_motor": "sim.devices.outputs:HapticMotor",
    "ov2640": "sim.devices.ov2640:OV2640",
}


def part_class(kind):
    try:
        mod, cls = KINDS[kind].split(":")
    except KeyError:
        raise ValueError("no virtual part for kind %r (known: %s)"
                         % (kind, ", ".join(sorted(KINDS)))) from None
    return getattr(importlib.import_module(mod), cls)


def _specs(data):
    """(name, spec) for every part of a board, touch pads numbered touch0, touch1..."""
    for name, spec in data.get("parts", {}).items():
        if isinstance(spec, (tuple, list)):
            for i, s in enumerate(spec):
                yield "%s%d" % (name, i), s
        else:
            yield name, spec


def populate(world, skip=(), options=None):
    """Create and wire the parts of world's board; return {name: part}."""
    from sim.devices.battery import Battery
    data = world.data
    options = options or {}
    world.battery = Battery(world, data.get("battery_mah", 500),
                            charge_ma=data.get("charge_ma", 100),
                            **options.get("battery", {}))
    for name, spec in _specs(data):
        base = name.rstrip("0123456789")
        if name in skip or base in skip:
            continue
        cls = part_class(spec["part"])
        world.parts[name] = cls.wire(world, name, spec, **options.get(name, {}))
    return world.parts
