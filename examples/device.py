#!/usr/bin/env python3
"""A reference heartbeatd device client, Python standard library only.

It keeps a connection to heartbeatd: HELLO with its name (a token, the
heartbeat timeout it wants), PING at a third of the timeout granted, and a
reconnect with exponential backoff and full jitter whenever the link dies.
A push, "MSG <pushid> <message>", is delivered once (printed on stdout) and
acknowledged. The server sends a push at least once, so the ids delivered
are remembered, across restarts with --state FILE, and a repeat is only
acknowledged. Other server lines are printed; its own actions go to stderr.

Copy it, and make deliver() do what your device does with a push.

Exit status: 0 after QUIT (SIGINT, SIGTERM, --max-msgs, --exit-after), 1
when the session of --once ends otherwise, 2 on a usage error.
"""

import argparse
import collections
import contextlib
import json
import logging
import math
import os
import random
import signal
import socket
import ssl
import sys
import tempfile
import time

BACKOFF_FIRST = 0.5     # s, the bound of the first reconnect delay
BACKOFF_MAX = 30.0      # s, where its doubling stops
STABLE_AFTER = 10.0     # s a session must last to start the backoff over
SERVER_TIMEOUT = 6.0    # s, heartbeatd's default, when none was granted
BEATS_PER_TIMEOUT = 3   # two PINGs may be lost before the server drops us
ANSWER_WAIT = 10.0      # s for connect, handshake, HELLO's answer, a send
QUIT_WAIT = 2.0         # s to wait for "BYE quit" before closing anyway
SEEN_MAX = 4096         # push ids remembered; the server keeps 1000 a name
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}

log = logging.getLogger("device")


class Stop(BaseException):
    """A signal, --max-msgs or --exit-after: say QUIT and exit 0. Not an
    Exception, so that no handler of errors (logging's, for one) swallows
    a signal that arrives while it runs."""


class Lost(Exception):
    """The session has ended; the message says why."""


def on_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


@contextlib.contextmanager
def signals_held():
    """Holds SIGINT and SIGTERM back during a step that a stop must not
    cut in two; they take effect when it is done."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def deliver(pushid, message):
    """What the device does with a push: here, show it."""
    print(f"MSG {pushid} {message}", flush=True)


def show(line):
    print(line, flush=True)


def first_word(line):
    return line.split(" ", 1)[0].upper()


class Seen:
    """The ids of the pushes delivered, oldest first and bounded, kept in
    a file when there is one, so that a repeat after the device's own
    restart is recognised too."""

    def __init__(self, path):
        self.path = path
        self.ids = collections.OrderedDict()
        if path is not None and os.path.exists(path):
            with open(path) as f:
                self.ids.update((str(i), True) for i in json.load(f)["seen"])

    def __contains__(self, pushid):
        return pushid in self.ids

    def add(self, pushid):
        self.ids[pushid] = True
        while len(self.ids) > SEEN_MAX:
            self.ids.popitem(last=False)
        if self.path is None:
            return
        # A new file, synced, then renamed over the old one: a crash
        # leaves one set or the other, never half of one.
        where = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".device-state.", dir=where)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump({"seen": list(self.ids)}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise


class Link:
    """A connection to heartbeatd: lines out, and lines in, each read
    with a deadline."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, line):
        log.debug("> %s", line)
        self.sock.settimeout(ANSWER_WAIT)
        self.sock.sendall(line.encode() + b"\n")

    def readline(self, until):
        """The next line without its end, or None once the monotonic
        clock reaches until."""
        while b"\n" not in self.buf:
            left = until - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise Lost("connection closed by the server")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.rstrip(b"\r").decode("utf-8", "replace")
        log.debug("< %s", line)
        return line


class Device:
    """One device: sessions with heartbeatd, one after another."""

    def __init__(self, args, tls):
        self.args = args
        self.tls = tls
        self.seen = Seen(args.state)
        self.delivered = 0
        self.deadline = math.inf
        if args.exit_after is not None:
            self.deadline = time.monotonic() + args.exit_after

    def run(self):
        """Runs sessions, with a backoff between them, until a Stop
        (exit status 0) or, with --once, the end of the first (1)."""
        bound = BACKOFF_FIRST
        try:
            while True:
                began = time.monotonic()
                try:
                    self.session()
                except (Lost, OSError) as e:
                    log.warning("session ended: %s", e)
                if self.args.once:
                    return 1
                # A session that lasted proves the way works. One that
                # ends at once must not become a loop hammering the
                # server, nor a fleet whose server restarted come back
                # in step: hence the doubling, and the full jitter.
                if time.monotonic() - began >= STABLE_AFTER:
                    bound = BACKOFF_FIRST
                delay = random.uniform(0, bound)
                log.info("reconnecting in %.2f s (at most %g)", delay, bound)
                bound = min(bound * 2, BACKOFF_MAX)
                left = self.deadline - time.monotonic()
                time.sleep(max(min(delay, left), 0))
                self.check_deadline()
        except Stop as e:
            log.info("stopping: %s", e)
            return 0

    def check_deadline(self):
        if time.monotonic() >= self.deadline:
            raise Stop(f"{self.args.exit_after:g} s have passed")

    def session(self):
        """One connection from connect to its end, which it raises:
        Lost or OSError, or Stop once it has said QUIT."""
        a = self.args
        log.info("connecting to %s port %d%s", a.host, a.port,
                 " with TLS" if self.tls else "")
        sock = socket.create_connection((a.host, a.port), ANSWER_WAIT)
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname=a.host)
            link = Link(sock)
            try:
                self.converse(link)
            except Stop:
                self.quit(link)
                raise
        finally:
            sock.close()

    def converse(self, link):
        """Beats and handles what the server sends until the session
        ends. A PING without a PONG within the timeout means the link is
        dead, even if the socket does not know it yet."""
        timeout = self.hello(link)
        interval = self.args.interval or timeout / BEATS_PER_TIMEOUT
        log.info("beating every %g s", interval)
        pings = collections.deque()     # send times, unanswered
        next_ping = time.monotonic() + interval
        while True:
            self.check_deadline()
            now = time.monotonic()
            if pings and now - pings[0] >= timeout:
                raise Lost(f"no PONG within {timeout:g} s")
            if now >= next_ping:
                link.send("PING")
                pings.append(now)
                next_ping = now + interval
            until = min(next_ping, self.deadline,
                        pings[0] + timeout if pings else math.inf)
            if (line := link.readline(until)) is None:
                continue
            word = first_word(line)
            if word == "PONG":
                if pings:
                    pings.popleft()
            elif word == "MSG":
                self.push(link, line)
            else:
                show(line)
                if word == "BYE":
                    raise Lost(f"server said {line}")

    def hello(self, link):
        """Names the connection; returns the heartbeat timeout in force:
        the one granted, else the one asked for, else the default."""
        words = ["HELLO", self.args.name]
        if token := self.token():
            words.append("token=" + token)
        if self.args.timeout is not None:
            # Decimal seconds, never with an exponent.
            asked = f"{self.args.timeout:.6f}".rstrip("0").rstrip(".")
            words.append("timeout=" + asked)
        link.send(" ".join(words))
        until = time.monotonic() + ANSWER_WAIT
        while (line := link.readline(until)) is not None:
            word = first_word(line)
            if word == "OK":
                log.info("hello: %s", line)
                opts = dict(w.partition("=")[::2] for w in line.split()[2:])
                try:
                    return float(opts.get("timeout") or self.args.timeout or
                                 SERVER_TIMEOUT)
                except ValueError:
                    raise Lost(f"bad answer to HELLO: {line}") from None
            show(line)
            if word in ("ERR", "BYE"):
                raise Lost(f"HELLO refused: {line}")
        raise Lost(f"no answer to HELLO within {ANSWER_WAIT:g} s")

    def token(self):
        """The token for HELLO. A --token-file is read at every connect,
        so that a token renewed on disk is used from the next one on."""
        if self.args.token_file is None:
            return self.args.token
        with open(self.args.token_file) as f:
            return f.readline().strip()

    def push(self, link, line):
        """Delivers MSG <pushid> <message> once, and acknowledges it and
        every repeat. The id is recorded before the ACK goes out: until
        the server has the ACK it may send the push again, even after
        this device restarts."""
        pushid, _, message = line.partition(" ")[2].partition(" ")
        if not (pushid.isascii() and pushid.isdigit()):
            log.warning("ignored, no push id: %s", line)
            return
        with signals_held():
            if pushid in self.seen:
                log.info("push %s again: acknowledged again", pushid)
            else:
                deliver(pushid, message)
                self.seen.add(pushid)
                self.delivered += 1
            link.send("ACK " + pushid)
        if self.delivered == self.args.max_msgs:
            raise Stop(f"{self.delivered} pushes delivered")

    def quit(self, link):
        """Says QUIT and waits a little for its BYE, so that the server
        ends the session as quit. A MSG read meanwhile is not
        acknowledged: the server sends it again."""
        try:
            link.send("QUIT")
            until = time.monotonic() + QUIT_WAIT
            while (line := link.readline(until)) is not None:
                if first_word(line) == "BYE":
                    show(line)
                    return
        except (Lost, OSError):
            pass


def seconds(text):
    """argparse type: a positive, finite number of seconds."""
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"not a positive number: {text}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description="A heartbeatd device client.")
    add = p.add_argument
    add("--host", default="127.0.0.1")
    add("--port", type=int, default=7000)
    add("--tls", action="store_true", help="speak TLS (to a tls_listen)")
    add("--cafile", help="CA bundle to check the server against "
        "(default: the system's)")
    add("--cert", help="client certificate, for [auth] mode cert or any")
    add("--key", help="its private key")
    add("--name", required=True, help="the name to HELLO with")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--token", help="token proving the name")
    g.add_argument("--token-file", metavar="FILE", help="file whose first "
                   "line is the token, read at every connect")
    add("--timeout", type=seconds, metavar="S",
        help="heartbeat timeout to ask for")
    add("--interval", type=seconds, metavar="S",
        help="seconds between PINGs (default: a third of the timeout)")
    add("--state", metavar="FILE", help="file keeping the pushes' ids")
    add("--once", action="store_true",
        help="one session: exit 1 when it ends, rather than reconnect")
    add("--max-msgs", type=int, metavar="N",
        help="QUIT and exit 0 once N pushes were delivered")
    add("--exit-after", type=seconds, metavar="S",
        help="QUIT and exit 0 after S seconds")
    add("--verbose", action="store_true", help="log every line")
    args = p.parse_args(argv)
    if (args.cert is None) != (args.key is None):
        p.error("--cert and --key go together")
    if not args.tls and (args.cafile or args.cert):
        p.error("--cafile and --cert need --tls")
    return args


def main(argv):
    args = parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(format="device: %(message)s", level=level)
    try:
        tls = None
        if args.tls:
            tls = ssl.create_default_context(cafile=args.cafile)
            if args.cert is not None:
                tls.load_cert_chain(args.cert, args.key)
        device = Device(args, tls)
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"device: {e}")
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    return device.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
