# The sensing feature: sensor sampling (sampling.py: the sensor service that reads the
# parts at their rates and survives faults), gestures (touch, IMU taps, head nod/shake),
# wear detection and the battery policy; service.py wires them into the app. The
# recognisers take the samples as plain calls and allocate nothing per sample.
