"""An intent plugin as a user would write one (GLASSES_VOICE_PLUGINS=tests.voice_plugin):
its phrases join the ASR grammar and the matcher."""
from host_tools.voice.assist import Intent, Reply


def register(registry):
    registry.register(Intent("flashlight", ["turn on the flashlight", "flashlight on"],
                             lambda ctx, slots: Reply("Flashlight on.",
                                                      [{"type": "flashlight", "on": True}])))
