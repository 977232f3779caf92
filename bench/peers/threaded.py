#!/usr/bin/env python3
"""The textbook heartbeat server, the peer bench/run measures against.

socketserver.ThreadingTCPServer: one thread per client, blocking reads
with settimeout(), a global list of the connected clients. A PING line is
answered PONG (with its payload); a client silent for TIMEOUT seconds is
dropped when its read times out.

usage: threaded.py PORT [TIMEOUT]     (listens on 127.0.0.1:PORT; TIMEOUT 6)
"""

import socket
import socketserver
import sys
import threading

clients = []
clients_lock = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    # StreamRequestHandler.setup() calls settimeout() with this.
    timeout = 6.0

    def handle(self):
        with clients_lock:
            clients.append(self.client_address)
        try:
            for line in self.rfile:
                if line[:4].upper() == b"PING":
                    self.wfile.write(b"PONG" + line[4:].rstrip(b"\r\n") +
                                     b"\n")
        except (socket.timeout, OSError):
            pass
        finally:
            with clients_lock:
                clients.remove(self.client_address)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 would measure SYN retries, not the design.
    request_queue_size = 4096


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: threaded.py PORT [TIMEOUT]")
    if len(sys.argv) == 3:
        Handler.timeout = float(sys.argv[2])
    with Server(("127.0.0.1", int(sys.argv[1])), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
