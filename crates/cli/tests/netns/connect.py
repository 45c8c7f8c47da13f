"""Connection attempts for the nftables network-namespace test.

Arguments: PROTO:ADDR:PORT ...  For TCP, connects with a 1.5 s timeout; for
UDP, sends one datagram. All at once, in threads. Prints one JSON object
{"PROTO:ADDR:PORT": true|false, ...}: whether the TCP handshake completed or
the datagram was sent (whether it arrived is counted by the listener).
"""
import json
import socket
import sys
import threading

result = {}


def attempt(spec):
    proto, addr, port = spec.split(":")
    try:
        if proto == "tcp":
            with socket.create_connection((addr, int(port)), timeout=1.5):
                result[spec] = True
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"egress-policy", (addr, int(port)))
                result[spec] = True
    except OSError:
        result[spec] = False


threads = [threading.Thread(target=attempt, args=(s,)) for s in sys.argv[1:]]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(result), flush=True)
