"""The host's plugins: features that serve the glasses through a Phone, each in its own
module with `attach(phone)` (registers its RPC handlers, routes, callbacks; may return an
object the host keeps). This list is the one place a host feature is added; a module that
is not in this build is skipped, one that fails to load or attach is reported and the
others still run.
"""
import importlib
import importlib.util
import logging
import sys

log = logging.getLogger(__name__)

# (short name, module)
HOST_PLUGINS = [
    ("voice", "host_tools.voice.host"),
    ("notify", "host_tools.notify.host"),
    ("ota", "host_tools.ota.host"),
    ("camera", "host_tools.camera.host"),
    ("power", "host_tools.power.host"),
]


def available(module):
    """The module if it is in this build (imported), else None. Errors while importing a
    module that exists propagate."""
    mod = sys.modules.get(module)
    if mod is not None:
        return mod
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except ModuleNotFoundError:  # its package is missing
        return None
    return importlib.import_module(module)


def attach_all(phone, plugins=None):
    """Attach every plugin present to phone. Returns {name: (state, detail)} with state
    "attached" (detail: what attach returned), "absent" or "failed" (detail: why)."""
    out = {}
    for name, module in (HOST_PLUGINS if plugins is None else plugins):
        try:
            mod = available(module)
        except Exception as e:  # a plugin that cannot even be imported
            out[name] = ("failed", "import %s: %s: %s" % (module, type(e).__name__, e))
            log.warning("plugin %s: %s", name, out[name][1])
            continue
        if mod is None:
            out[name] = ("absent", "%s is not in this build" % module)
            continue
        attach = getattr(mod, "attach", None)
        if attach is None:
            out[name] = ("failed", "%s has no attach(phone)" % module)
            continue
        try:
            out[name] = ("attached", attach(phone))
        except Exception as e:
            out[name] = ("failed", "%s.attach: %s: %s" % (module, type(e).__name__, e))
            log.warning("plugin %s: %s", name, out[name][1])
    return out
