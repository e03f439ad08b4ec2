# A vibration motor (ERM) on a PWM output through a transistor driver.
#
#   buzz = Haptic(machine.PWM(machine.Pin(2), freq=1000, duty_u16=0))
#   buzz.on(60)                  # 60 % strength
#   await buzz.pulse(40, 80)     # 40 ms at 80 %, then off (a scheduler task)
from firmware.runtime import sched as _sched


class Haptic:
    def __init__(self, pwm):
        self.pwm = pwm
        self.strength_pct = 0
        self.off()

    def on(self, strength_pct=100):
        if not 0 <= strength_pct <= 100:
            raise ValueError("strength_pct must be 0..100")
        self.strength_pct = strength_pct
        self.pwm.duty_u16(strength_pct * 65535 // 100)

    def off(self):
        self.strength_pct = 0
        self.pwm.duty_u16(0)

    async def pulse(self, ms=40, strength_pct=80):
        """Buzz for ms milliseconds (awaited in a task; the motor stops even if the task
        is cancelled meanwhile)."""
        self.on(strength_pct)
        try:
            await _sched.sleep_ms(ms)
        finally:
            self.off()
