# Sensing services: gestures (touch, IMU taps, head nod/shake), wear detection, battery
# policy. Each consumes the sensor service's sample callables directly (on_tap, on_gyro,
# on_prox, on_battery, on_touch, on_fault) and allocates nothing per sample.
