"""An intent plugin as a user would write one (GLASSES_VOICE_PLUGINS=voice_plugin)."""
from host_tools.voice.assist import Reply


def register(registry):
    @registry.intent("flashlight", ["turn (on|off) the (flashlight|torch)", "flashlight on"])
    def flashlight(ctx, slots):
        return Reply("Flashlight on.", [{"type": "flashlight", "on": True}])
