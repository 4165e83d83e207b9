#!/usr/bin/env python3
"""Sends one TCP SYN to TARGET PORT from each IPv6 source address given, to play an attacker
that rotates through the addresses of a routed prefix (no spoofing needed in real life).
A raw IPPROTO_TCP socket bound with IPV6_FREEBIND to each source; the kernel fills in the
checksum (IPV6_CHECKSUM). Only fd00::/8 is accepted, for sources and target.

usage: spoof-syn6-rotate.py TARGET PORT SOURCE..."""
import ipaddress
import socket
import struct
import sys

LAB = ipaddress.ip_network("fd00::/8")
IPV6_FREEBIND = 78
IPV6_CHECKSUM = 7


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    target = ipaddress.IPv6Address(sys.argv[1])
    port = int(sys.argv[2])
    sources = [ipaddress.IPv6Address(text) for text in sys.argv[3:]]
    for address in [target, *sources]:
        if address not in LAB:
            print(f"{address} is outside fd00::/8; refusing", file=sys.stderr)
            return 2
    for i, source in enumerate(sources):
        sender = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
        sender.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
        sender.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 16)
        sender.bind((str(source), 0))
        tcp = struct.pack("!HHIIBBHHH", 41000 + i, port, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
        sender.sendto(tcp, (str(target), 0))
        sender.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
