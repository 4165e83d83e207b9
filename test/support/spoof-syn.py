#!/usr/bin/env python3
"""Sends TCP SYNs to one target port from many distinct source addresses (a raw socket,
IP_HDRINCL), to play a flood of scanners in a test network namespace. Sources are taken
in order from a base network, and only 198.18.0.0/15 is accepted, for sources and target.

usage: spoof-syn.py TARGET PORT COUNT [FIRST_SOURCE] [PER_SECOND]
prints the sources it sent from, one per line, to stdout."""
import ipaddress
import socket
import struct
import sys
import time

from inet_checksum import checksum  # beside this script

LAB = ipaddress.ip_network("198.18.0.0/15")


def syn(source: ipaddress.IPv4Address, target: ipaddress.IPv4Address, port: int, sport: int) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, port, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
    pseudo = source.packed + target.packed + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, socket.IPPROTO_TCP, 0, source.packed, target.packed)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    target = ipaddress.IPv4Address(sys.argv[1])
    port, count = int(sys.argv[2]), int(sys.argv[3])
    first = ipaddress.IPv4Address(sys.argv[4] if len(sys.argv) > 4 else "198.19.0.1")
    per_second = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    last = first + (count - 1)
    for address in (target, first, last):
        if address not in LAB:
            print(f"{address} is outside 198.18.0.0/15; refusing", file=sys.stderr)
            return 2
    sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sender.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    start = time.monotonic()
    out = []
    for i in range(count):
        source = first + i
        sender.sendto(syn(source, target, port, 40000 + i % 20000), (str(target), 0))
        out.append(str(source))
        if per_second > 0:
            delay = start + (i + 1) / per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
