# Dev boards as data: one folder per board, each with board.py (DATA and build());
# see boards/README.md.
