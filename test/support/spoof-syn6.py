#!/usr/bin/env python3
"""Sends one IPv6 TCP SYN (or UDP datagram) with a source address of our choosing (a raw
IPv6 socket with the header included), to play an attacker who forges odd sources such as
::ffff:198.18.0.77. Only fd00::/8 targets and fd00::/8 or ::ffff:198.18.0.0/111 sources are
accepted, so nothing leaves the test's own address ranges.

usage: spoof-syn6.py SOURCE TARGET PORT [tcp|udp] [COUNT]"""
import ipaddress
import socket
import struct
import sys

from inet_checksum import checksum  # beside this script

TARGETS = ipaddress.ip_network("fd00::/8")
SOURCES = [ipaddress.ip_network("fd00::/8"), ipaddress.ip_network("::ffff:198.18.0.0/111")]


def packet(source: ipaddress.IPv6Address, target: ipaddress.IPv6Address, port: int, proto: str, sport: int) -> bytes:
    if proto == "tcp":
        segment = struct.pack("!HHIIBBHHH", sport, port, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
        number, at = socket.IPPROTO_TCP, 16
    else:
        segment = struct.pack("!HHHH", sport, port, 8 + 4, 0) + b"ping"
        number, at = socket.IPPROTO_UDP, 6
    pseudo = source.packed + target.packed + struct.pack("!I3xB", len(segment), number)
    segment = segment[:at] + struct.pack("!H", checksum(pseudo + segment)) + segment[at + 2:]
    header = struct.pack("!IHBB16s16s", 6 << 28, len(segment), number, 64, source.packed, target.packed)
    return header + segment


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    source, target, port = ipaddress.IPv6Address(sys.argv[1]), ipaddress.IPv6Address(sys.argv[2]), int(sys.argv[3])
    proto = sys.argv[4] if len(sys.argv) > 4 else "tcp"
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    if target not in TARGETS or not any(source in net for net in SOURCES) or proto not in ("tcp", "udp"):
        print("source or target outside the test ranges, or bad protocol; refusing", file=sys.stderr)
        return 2
    sender = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(count):
        sender.sendto(packet(source, target, port, proto, 40000 + i), (str(target), 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
