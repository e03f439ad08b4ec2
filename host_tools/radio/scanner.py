"""bleak scanner backend on a BumbleAdapter (see bleak/backends/scanner.py for the
contract)."""
from __future__ import annotations

from typing import Any, Literal

from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from host_tools.radio.uuid import uuid_str


def advertisement_data(adv) -> AdvertisementData:
    """bleak's AdvertisementData from a bumble Advertisement (advertising data and scan
    response merged)."""
    name = None
    uuids: list[str] = []
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    tx = None
    for ad_type, raw in adv.data.ad_structures:
        raw = bytes(raw)
        if ad_type in (0x08, 0x09):  # shortened / complete local name
            if name is None or ad_type == 0x09:
                name = raw.decode("utf-8", "replace")
        elif ad_type in (0x02, 0x03):  # 16-bit service UUIDs
            uuids += [uuid_str(raw[i:i + 2]) for i in range(0, len(raw) - 1, 2)]
        elif ad_type in (0x06, 0x07):  # 128-bit service UUIDs
            uuids += [uuid_str(raw[i:i + 16]) for i in range(0, len(raw) - 15, 16)]
        elif ad_type == 0xFF and len(raw) >= 2:
            manufacturer[int.from_bytes(raw[:2], "little")] = raw[2:]
        elif ad_type == 0x16 and len(raw) >= 2:
            service_data[uuid_str(raw[:2])] = raw[2:]
        elif ad_type == 0x0A and len(raw) == 1:
            tx = int.from_bytes(raw, "little", signed=True)
    return AdvertisementData(
        local_name=name, manufacturer_data=manufacturer, service_data=service_data,
        service_uuids=uuids, tx_power=tx, rssi=adv.rssi, platform_data=(adv,))


class BleakScannerBumble(BaseBleakScanner):
    """Scans with the adapter bound to the class (see host_tools.radio.bind)."""

    adapter: Any = None  # set on the subclass bind() makes

    def __init__(self, detection_callback, service_uuids,
                 scanning_mode: Literal["active", "passive"] = "active", **kwargs: Any):
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode != "passive"
        self._scanning = False

    async def start(self) -> None:
        self.seen_devices = {}
        await self.adapter.add_scanner(self, self._active)
        self._scanning = True

    async def stop(self) -> None:
        if self._scanning:
            self._scanning = False
            await self.adapter.remove_scanner(self)

    def on_advertisement(self, adv) -> None:
        ad = advertisement_data(adv)
        if not self.is_allowed_uuid(ad.service_uuids):
            return
        address = str(adv.address).split("/")[0]
        device = self.create_or_update_device(address, address, ad.local_name,
                                              {"address": adv.address, "adv": adv}, ad)
        self.call_detection_callbacks(device, ad)
