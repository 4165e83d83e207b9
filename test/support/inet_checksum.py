"""The Internet checksum (RFC 1071) that the raw-packet senders in this folder put into the
IP, TCP and UDP headers they build by hand."""
import struct


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
