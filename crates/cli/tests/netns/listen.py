"""Listeners for the nftables network-namespace test.

Arguments: PROTO:ADDR:PORT ...  Binds each, counts accepted TCP connections and
received UDP datagrams, prints "ready" once bound, and on end of standard input
prints one JSON object {"PROTO:ADDR:PORT": count, ...} and exits.
"""
import json
import selectors
import socket
import sys
import threading

counts = {}
sel = selectors.DefaultSelector()
for spec in sys.argv[1:]:
    proto, addr, port = spec.split(":")
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    if proto == "tcp":
        s.listen(64)
    s.setblocking(False)
    counts[spec] = 0
    sel.register(s, selectors.EVENT_READ, (spec, proto))

done = threading.Event()


def wait_stdin():
    sys.stdin.read()
    done.set()


threading.Thread(target=wait_stdin, daemon=True).start()
print("ready", flush=True)
while not done.is_set():
    for key, _ in sel.select(timeout=0.05):
        spec, proto = key.data
        try:
            if proto == "tcp":
                conn, _ = key.fileobj.accept()
                conn.close()
            else:
                key.fileobj.recvfrom(2048)
        except BlockingIOError:
            continue
        counts[spec] += 1
print(json.dumps(counts), flush=True)
