#!/usr/bin/env python3
"""examples/device.py, end to end.

Against the real daemon ($HEARTBEATD): HELLO with a timeout and a token,
heartbeats, BYE, reconnects with backoff across a restart, SIGTERM, TLS
with a client certificate; a push sent while the device is offline,
received at its HELLO, acknowledged, and delivered once although the
daemon sends it again after the ACK was lost with the connection; and a
push after the daemon restarts on its state file. Against a scripted
fake server: MSG parsing, de-duplication across restarts (--state) and
ACK, and a link that stops answering PING. Every wait has a deadline;
nothing sleeps to synchronise.
"""

import contextlib
import hashlib
import hmac
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

TOP = os.environ.get("TOP_SRCDIR",
                     os.path.join(os.path.dirname(__file__), ".."))
DEVICE = os.path.join(TOP, "examples", "device.py")
HEARTBEATD = os.environ.get("HEARTBEATD", "src/heartbeatd")
SLOW = float(os.environ.get("HB_SLOW_FACTOR") or 1)
WAIT = 10.0 * SLOW              # s, the deadline of every wait
SECRET = "5e" * 32


class Proc:
    """A child process whose stdout and stderr lines are collected by
    threads, for waits with a deadline."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.lines = {"out": [], "err": []}
        self.cond = threading.Condition()
        self.readers = []
        for key, f in (("out", self.p.stdout), ("err", self.p.stderr)):
            t = threading.Thread(target=self.collect, args=(key, f),
                                 daemon=True)
            t.start()
            self.readers.append(t)

    def collect(self, key, f):
        for line in f:
            with self.cond:
                self.lines[key].append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_line(self, key, pattern, count=1):
        """The count-th line of stream key matching the regex pattern."""
        def found():
            hits = [s for s in self.lines[key] if re.search(pattern, s)]
            return hits[count - 1] if len(hits) >= count else None
        with self.cond:
            if not self.cond.wait_for(found, WAIT):
                raise AssertionError(f"no {pattern!r} (#{count}) in "
                                     f"{key}: {self.lines[key]}")
            return found()

    def finish(self, sig=None):
        """Signals the process (if sig) and returns its exit status."""
        if sig is not None:
            self.p.send_signal(sig)
        try:
            self.p.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.p.kill()
        rc = self.p.wait()
        for t in self.readers:
            t.join()
        self.p.stdout.close()
        self.p.stderr.close()
        if rc == -signal.SIGKILL and sig != signal.SIGKILL:
            raise AssertionError(f"{self.p.args[:2]} did not exit within "
                                 f"{WAIT:g} s; stderr: {self.lines['err']}")
        return rc


class Daemon(Proc):
    """heartbeatd on loopback with the given config sections."""

    def __init__(self, tmp, conf):
        path = os.path.join(tmp, f"hb{time.monotonic_ns()}.conf")
        with open(path, "w") as f:
            f.write("[log]\nsyslog = no\n" + conf)
        super().__init__([HEARTBEATD, "-f", "-c", path])
        try:
            start = self.wait_line("err", r"^start version=")
        except AssertionError:
            self.finish(signal.SIGKILL)
            raise
        ports = re.findall(r"(\w+)=127\.0\.0\.1:(\d+)", start)
        self.port = {k: int(p) for k, p in ports}

    def admin(self, command, lines=1):
        """The first line of the answer to command; with lines=None,
        every line up to END, as a list."""
        with socket.create_connection(("127.0.0.1", self.port["admin"]),
                                      WAIT) as s:
            s.sendall(command.encode() + b"\n")
            f = s.makefile()
            if lines == 1:
                return f.readline().rstrip("\n")
            return list(iter(lambda: f.readline().rstrip("\n"), "END"))

    def wait_admin(self, command, want):
        """Polls command until its answer, all lines up to END, is
        want."""
        deadline = time.monotonic() + WAIT
        while (got := self.admin(command, None)) != want:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{command}: {got}, not {want}")
            time.sleep(0.02)


class Fake:
    """A scripted server on loopback: each accepted connection gets the
    function script(conn, lines), run in a thread; lines is a file of
    what the device sends."""

    def __init__(self, script):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.script = script
        self.accepted = threading.Semaphore(0)
        self.errors = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.release()
            conn.settimeout(WAIT)
            threading.Thread(target=self.run, args=(conn,),
                             daemon=True).start()

    def run(self, conn):
        with conn:
            try:
                self.script(conn, conn.makefile())
            except Exception as e:
                self.errors.append(e)

    def close(self):
        self.sock.close()


class Relay:
    """A relay on loopback to a server's port that loses the first line
    equal to drop that its client sends, and ends that connection there:
    a connection that dies with the line still in a kernel buffer."""

    def __init__(self, port, drop):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.target = port
        self.drop = drop.encode() + b"\n"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.target), WAIT)
            threading.Thread(target=self.relay, args=(down, up, self.drop),
                             daemon=True).start()
            self.drop = None

    def relay(self, down, up, drop):
        """One connection: both ways until either ends, then closed."""
        back = threading.Thread(target=self.pipe, args=(up, down, None),
                                daemon=True)
        back.start()
        self.pipe(down, up, drop)
        back.join()
        down.close()
        up.close()

    @staticmethod
    def pipe(src, dst, drop):
        """Copies src to dst, line by line, until an end, or until the
        line drop; then ends both ways of both connections."""
        with contextlib.suppress(OSError), src.makefile("rb") as f:
            for line in f:
                if line == drop:
                    break
                dst.sendall(line)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self):
        self.sock.close()


def expect(lines, want):
    got = lines.readline().rstrip("\n")
    if got != want:
        raise AssertionError(f"device sent {got!r}, not {want!r}")


class DeviceTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="check_device.")

    def device(self, port, *args):
        """examples/device.py for the name dev on port, with args; killed
        at the end if need be."""
        argv = [sys.executable, DEVICE, "--port", str(port), "--name", "dev"]
        dev = Proc(argv + list(args))
        self.addCleanup(dev.finish, signal.SIGKILL)
        return dev

    def start(self, conf):
        d = Daemon(self.tmp, conf)
        self.addCleanup(d.finish, signal.SIGTERM)
        return d

    def test_timeout_granted_and_kept(self):
        d = self.start("[server]\nlisten = 127.0.0.1:0\n"
                       "heartbeat_timeout_min = 0.1\n"
                       "heartbeat_timeout_max = 5\n"
                       "[admin]\nlisten = 127.0.0.1:0\n")
        # Dropped after 0.3 s of silence unless it beats in time.
        dev = self.device(d.port["listen"], "--timeout", "0.3", "--once",
                          "--exit-after", "1.5")
        self.assertEqual(dev.finish(), 0)
        self.assertEqual(dev.lines["out"], ["BYE quit"])
        dev.wait_line("err", r"^device: hello: OK #1 timeout=0\.3$")
        dev.wait_line("err", r"^device: beating every 0\.1 s$")
        d.wait_line("err", r"^disconnect #1 .*name=dev reason=quit ")
        # Clamped to the server's maximum, beating at a third of that.
        dev = self.device(d.port["listen"], "--timeout", "60", "--once",
                          "--exit-after", "0.2")
        self.assertEqual(dev.finish(), 0)
        dev.wait_line("err", r"^device: hello: OK #2 timeout=5$")
        dev.wait_line("err", r"^device: beating every 1\.66667 s$")

    def test_token(self):
        d = self.start("[server]\nlisten = 127.0.0.1:0\n"
                       "[admin]\nlisten = 127.0.0.1:0\n"
                       f"[auth]\nmode = token\nsecret = {SECRET}\n")
        mac = hmac.new(bytes.fromhex(SECRET), b"v1.dev.0", hashlib.sha256)
        path = os.path.join(self.tmp, "token")
        with open(path, "w") as f:
            f.write(f"v1.0.{mac.hexdigest()}\n")
        dev = self.device(d.port["listen"], "--token-file", path, "--once",
                          "--exit-after", "0.3")
        self.assertEqual(dev.finish(), 0)
        d.wait_line("err", r"^hello #1 name=dev auth=token$")
        dev = self.device(d.port["listen"], "--token", "v1.0.00", "--once")
        self.assertEqual(dev.finish(), 1)
        self.assertEqual(dev.lines["out"], ["ERR auth bad token"])
        dev.wait_line("err", r"session ended: HELLO refused: ERR auth bad "
                      r"token$")

    def test_kick_backoff_and_sigterm(self):
        d = self.start("[server]\nlisten = 127.0.0.1:0\n"
                       "[admin]\nlisten = 127.0.0.1:0\n")
        dev = self.device(d.port["listen"])
        # Sessions that end at once double the bound of the delay; one
        # that lasted 10 s (STABLE_AFTER) starts it over.
        for n, lasts, bound in ((1, 0, 0.5), (2, 0, 1), (3, 10.2, 0.5)):
            d.wait_line("err", rf"^hello #{n} name=dev$")
            time.sleep(lasts)       # the session's length, not a wait
            self.assertEqual(d.admin("KICK dev"), "OK")
            self.assertBackoff(dev, n, bound)
        d.wait_line("err", r"^hello #4 name=dev$")
        self.assertEqual(dev.finish(signal.SIGTERM), 0)
        self.assertEqual(dev.lines["out"], ["BYE kicked"] * 3 + ["BYE quit"])
        dev.wait_line("err", r"session ended: server said BYE kicked$", 3)
        d.wait_line("err", r"^disconnect #4 .*name=dev reason=quit ")

    def assertBackoff(self, dev, n, bound):
        """The n-th reconnect of dev waits for at most bound seconds."""
        line = dev.wait_line("err", r"^device: reconnecting in ", n)
        m = re.search(r" in ([0-9.]+) s \(at most ([0-9.]+)\)$", line)
        self.assertIsNotNone(m, line)
        self.assertEqual(float(m.group(2)), bound, line)
        self.assertLessEqual(float(m.group(1)), bound, line)

    def test_restart(self):
        conf = "[server]\nlisten = 127.0.0.1:%d\n[admin]\nlisten =\n"
        d = self.start(conf % 0)
        port = d.port["listen"]
        dev = self.device(port)
        d.wait_line("err", r"^hello #1 name=dev$")
        self.assertEqual(d.finish(signal.SIGTERM), 0)
        dev.wait_line("out", r"^BYE shutdown$")
        for n, bound in ((1, 0.5), (2, 1), (3, 2)):
            self.assertBackoff(dev, n, bound)
        dev.wait_line("err", r"session ended: .*[Rr]efused", 3)
        d = self.start(conf % port)
        d.wait_line("err", r"^hello #1 name=dev$")
        self.assertEqual(dev.finish(signal.SIGINT), 0)
        self.assertEqual(dev.lines["out"], ["BYE shutdown", "BYE quit"])

    def test_tls_client_certificate(self):
        pki = self.pki()
        d = self.start("[server]\nlisten = 127.0.0.1:0\n"
                       "tls_listen = 127.0.0.1:0\n"
                       "[admin]\nlisten = 127.0.0.1:0\n"
                       f"[tls]\ncert = {pki}/server.pem\n"
                       f"key = {pki}/server.key\nca = {pki}/ca.pem\n"
                       "[auth]\nmode = cert\n")
        port = d.port["tls"]
        dev = self.device(port, "--tls", "--cafile", f"{pki}/ca.pem",
                          "--cert", f"{pki}/dev.pem", "--key",
                          f"{pki}/dev.key", "--once", "--exit-after", "0.3")
        self.assertEqual(dev.finish(), 0)
        self.assertEqual(dev.lines["out"], ["BYE quit"])
        d.wait_line("err", r"^connect #1 .* tls=yes$")
        d.wait_line("err", r"^hello #1 name=dev auth=cert$")
        # A server the CA does not vouch for is never spoken to.
        dev = self.device(port, "--tls", "--cafile", f"{pki}/dev.pem",
                          "--once")
        self.assertEqual(dev.finish(), 1)
        dev.wait_line("err", r"session ended: .*CERTIFICATE_VERIFY_FAILED")

    def pki(self):
        """A CA, a server certificate for 127.0.0.1 and a client one for
        CN=dev, by the openssl CLI."""
        d = os.path.join(self.tmp, "pki")
        os.mkdir(d)
        new = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-noenc", "-days", "2"]

        def run(*argv):
            subprocess.run(argv, check=True, capture_output=True)

        run(*new, "-subj", "/CN=test CA", "-keyout", f"{d}/ca.key",
            "-out", f"{d}/ca.pem")
        for name, ext in (("server", "subjectAltName=IP:127.0.0.1"),
                          ("dev", "extendedKeyUsage=clientAuth")):
            run(*new, "-subj", f"/CN={name}", "-keyout", f"{d}/{name}.key",
                "-out", f"{d}/{name}.pem", "-CA", f"{d}/ca.pem", "-CAkey",
                f"{d}/ca.key", "-addext", "basicConstraints=CA:FALSE",
                "-addext", ext)
        return d

    def test_push_offline_once(self):
        d = self.start("[server]\nlisten = 127.0.0.1:0\n"
                       "[admin]\nlisten = 127.0.0.1:0\n")
        pushid = self.push_ok(d, "PUSH dev 0 reboot  now")
        relay = Relay(d.port["listen"], f"ACK {pushid}")
        self.addCleanup(relay.close)
        dev = self.device(relay.port)
        # The first ACK is lost with its connection: the daemon sends the
        # push again on the next session, and the device only ACKs it.
        d.wait_line("err", r"^disconnect #1 .*name=dev reason=closed ")
        dev.wait_line("err", r"^device: reconnecting in ")
        dev.wait_line("err", rf"^device: push {pushid} again: acknowledged "
                      r"again$")
        d.wait_admin("PUSHES dev", [])
        self.assertIn("STAT pushes_acked 1", d.admin("STATS", None))
        self.assertEqual(dev.finish(signal.SIGTERM), 0)
        self.assertEqual(dev.lines["out"], [f"MSG {pushid} reboot  now",
                                            "BYE quit"])

    def push_ok(self, d, command):
        """Sends the PUSH command to d, asserts "OK <id>" and returns the
        id, which, without a state file, goes on from the clock."""
        answer = d.admin(command)
        self.assertRegex(answer, r"^OK [1-9][0-9]*$")
        return int(answer[3:])
        d.wait_line("err", r"^disconnect #2 .*name=dev reason=quit ")

    def test_push_across_daemon_restart(self):
        state = os.path.join(self.tmp, "state.db")
        conf = ("[server]\nlisten = 127.0.0.1:%d\n"
                "[admin]\nlisten = 127.0.0.1:0\n"
                f"[state]\nfile = {state}\n")
        d = self.start(conf % 0)
        port = d.port["listen"]
        dev = self.device(port)
        d.wait_line("err", r"^hello #1 name=dev$")
        self.assertEqual(d.admin("PUSH dev 0 first"), "OK 1")
        dev.wait_line("out", r"^MSG 1 first$")
        d.wait_admin("PUSHES dev", [])
        self.assertEqual(d.finish(signal.SIGTERM), 0)
        dev.wait_line("out", r"^BYE shutdown$")
        self.assertBackoff(dev, 1, 0.5)
        # A push id is never given twice, or the device would take the
        # new push for a repeat of the old one and drop it.
        d = self.start(conf % port)
        self.assertEqual(d.admin("PUSH dev 0 second"), "OK 2")
        d.wait_line("err", r"^hello #1 name=dev$")
        dev.wait_line("out", r"^MSG 2 second$")
        d.wait_admin("PUSHES dev", [])
        self.assertEqual(dev.finish(signal.SIGTERM), 0)
        self.assertEqual(dev.lines["out"], ["MSG 1 first", "BYE shutdown",
                                            "MSG 2 second", "BYE quit"])

    def test_msg_dedup_across_restarts(self):
        state = os.path.join(self.tmp, "state")

        def first(conn, lines):
            expect(lines, "HELLO dev")
            conn.sendall(b"OK #1\nMSG nope\nMSG 1 two  words\n"
                         b"MSG 1 two  words\nMSG 2 \n")
            for want in ("ACK 1", "ACK 1", "ACK 2", "QUIT"):
                expect(lines, want)
            conn.sendall(b"BYE quit\n")

        def second(conn, lines):
            expect(lines, "HELLO dev")
            conn.sendall(b"OK #1\nMSG 2 \nMSG 3 three\n")
            for want in ("ACK 2", "ACK 3", "QUIT"):
                expect(lines, want)
            conn.sendall(b"BYE quit\n")

        for script, n, out in ((first, "2", ["MSG 1 two  words", "MSG 2 "]),
                               (second, "1", ["MSG 3 three"])):
            fake = Fake(script)
            dev = self.device(fake.port, "--state", state, "--once",
                              "--max-msgs", n)
            self.assertEqual(dev.finish(), 0)
            fake.close()
            self.assertEqual(fake.errors, [])
            self.assertEqual(dev.lines["out"], out + ["BYE quit"])
        dev.wait_line("err", r"^device: push 2 again: acknowledged again$")

    def test_no_pong_means_dead(self):
        hellos = []

        def silent(conn, lines):
            hellos.append(lines.readline())
            conn.sendall(b"OK #1 timeout=0.3\n")
            lines.read()

        fake = Fake(silent)
        self.addCleanup(fake.close)
        dev = self.device(fake.port, "--timeout", "0.3")
        for _ in range(2):
            self.assertTrue(fake.accepted.acquire(timeout=WAIT))
        self.assertEqual(dev.finish(signal.SIGTERM), 0)
        self.assertEqual(hellos[0], "HELLO dev timeout=0.3\n")
        dev.wait_line("err", r"session ended: no PONG within 0\.3 s$")


if __name__ == "__main__":
    unittest.main(verbosity=2)
