# The battery's end: a clean shutdown before the cell is empty, and the way back
# (docs/power.md, "The battery's end").
