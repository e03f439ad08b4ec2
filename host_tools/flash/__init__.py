"""`glasses flash`: put the glasses firmware (or any folder of .py files) on a MicroPython
board over its serial REPL. Modules: transport (raw REPL over pyserial), devfs (file
operations on the device), build (mpy-cross, the tree), deploy (the order of work),
errors (what can go wrong and what to do)."""
