# The glasses-only radio: the GATT peripheral (gatt.py, its database db.py, the IRQ event
# ring ring.py), advertising (adv.py), bonds (bonds.py), the glasses' link endpoint on GATT
# (link.py) and the link feature (service.py: status, forget, log streaming).
