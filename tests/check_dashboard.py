#!/usr/bin/env python3
"""The dashboard (SPEC §15) in a real browser.

heartbeatd serves GET / on its [http] port; headless Chromium (Debian's
chromium, which ./bootstrap installs) loads it while clients connect and
name themselves, and the test reads the page's DOM through the DevTools
protocol on a pipe: the client table, the event feed, the registry, the
send form, paging and the login. The first test saves a screenshot,
tests/dashboard.png in the build directory. Every wait polls with a
deadline. Exits 77 (skipped) when there is no chromium.
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HEARTBEATD = os.environ.get("HEARTBEATD", "src/heartbeatd")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
BUILD = os.environ.get("TOP_BUILDDIR", ".")
SLOW = float(os.environ.get("HB_SLOW_FACTOR") or 1)
WAIT = 20.0 * SLOW              # s, the deadline of every wait
TOKEN = "dash-admin-token-0123456789"


def reserve_port():
    """A free loopback port, held by a bound socket (never listening)
    until the daemon has bound it too, as tests/itest.c does."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


class Daemon:
    """heartbeatd on loopback with more [admin] keys, its HTTP port
    reserved beforehand; its stderr is collected by a thread for waits
    with a deadline."""

    def __init__(self, tmp, admin=""):
        held = reserve_port()
        self.http = held.getsockname()[1]
        path = os.path.join(tmp, "hb.conf")
        # The test's clients never beat: 300 s outlasts the slowest run.
        with open(path, "w") as f:
            f.write("[log]\nsyslog = no\n[server]\nlisten = 127.0.0.1:0\n"
                    "heartbeat_timeout = 300\n"
                    "[admin]\nlisten = 127.0.0.1:0\n" + admin +
                    f"[http]\nlisten = 127.0.0.1:{self.http}\n")
        self.p = subprocess.Popen([HEARTBEATD, "-f", "-c", path],
                                  stderr=subprocess.PIPE, text=True)
        self.err = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self.collect, daemon=True)
        self.reader.start()
        try:
            start = self.wait_line(r"^start version=")
        finally:
            held.close()
        self.port = int(re.search(r" listen=127\.0\.0\.1:(\d+)",
                                  start).group(1))

    def collect(self):
        for line in self.p.stderr:
            with self.cond:
                self.err.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_line(self, pattern):
        def found():
            return next((s for s in self.err if re.search(pattern, s)),
                        None)
        with self.cond:
            if not self.cond.wait_for(found, WAIT):
                raise AssertionError(f"no {pattern!r} in {self.err}")
            return found()

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.reader.join()
        self.p.stderr.close()
        if rc != 0:
            raise AssertionError(f"heartbeatd exited {rc}: {self.err}")


class Client:
    """A device on the client port that has said HELLO <name>."""

    def __init__(self, port, name):
        self.sock = socket.create_connection(("127.0.0.1", port), WAIT)
        self.file = self.sock.makefile("rw", newline="\n")
        self.say(f"HELLO {name}")
        self.id = int(re.fullmatch(r"OK #(\d+)", self.line()).group(1))

    def say(self, line):
        self.file.write(line + "\n")
        self.file.flush()

    def line(self):
        return self.file.readline().rstrip("\n")

    def close(self):
        self.file.close()
        self.sock.close()


class Browser:
    """Headless Chromium driven over --remote-debugging-pipe: commands go
    out on its fd 3 and answers come back on its fd 4, each a JSON text
    ended by a NUL byte. One page, attached in flat mode."""

    def __init__(self, tmp):
        cmd_r, self.cmd_w = os.pipe()
        res_r, res_w = os.pipe()
        argv = ["sh", "-c", f'exec "$0" "$@" 3<&{cmd_r} 4>&{res_w}',
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe", "--no-first-run",
                "--disable-extensions", "--window-size=1280,900",
                f"--user-data-dir={tmp}/chromium", "about:blank"]
        self.log = open(os.path.join(tmp, "chromium.log"), "w")
        self.p = subprocess.Popen(argv, pass_fds=(cmd_r, res_w),
                                  stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=self.log)
        os.close(cmd_r)
        os.close(res_w)
        self.res = os.fdopen(res_r, "rb")
        self.next_id = 0
        self.replies = {}
        self.exceptions = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self.collect, daemon=True)
        self.reader.start()
        target = self.call("Target.createTarget",
                           {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target,
                                  "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime"):
            self.call(domain + ".enable", session=self.session)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1,
                   "mobile": False}, self.session)

    def collect(self):
        buf = b""
        while True:
            chunk = self.res.read1(65536)
            if not chunk:
                break
            buf += chunk
            *msgs, buf = buf.split(b"\0")
            with self.cond:
                for raw in msgs:
                    m = json.loads(raw)
                    if "id" in m:
                        self.replies[m["id"]] = m
                    elif m.get("method") == "Runtime.exceptionThrown":
                        self.exceptions.append(
                            m["params"]["exceptionDetails"])
                self.cond.notify_all()

    def call(self, method, params=None, session=None):
        """The result of one DevTools command."""
        with self.cond:
            self.next_id += 1
            n = self.next_id
        msg = {"id": n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        with self.cond:
            if not self.cond.wait_for(lambda: n in self.replies, WAIT):
                raise AssertionError(f"chromium did not answer {method}")
            reply = self.replies.pop(n)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply["result"]

    def js(self, expr):
        """The value of a JavaScript expression in the page (awaited when
        it is a promise)."""
        r = self.call("Runtime.evaluate",
                      {"expression": expr, "returnByValue": True,
                       "awaitPromise": True}, self.session)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def open(self, url):
        self.call("Page.navigate", {"url": url}, self.session)

    def wait(self, expr, what):
        """Polls expr in the page until it is truthy; returns its value."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                v = self.js(expr)
            except AssertionError:
                v = None        # the page is still loading
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} within {WAIT:g} s; the page "
                                     f"says: {self.text()!r}")
            time.sleep(0.05)    # a poll's pace, not a synchronisation

    def text(self):
        return self.js("document.body ? document.body.innerText : ''")

    def dom(self):
        return self.js("document.documentElement.outerHTML")

    def fill(self, field, value):
        self.js(f"document.getElementById({json.dumps(field)}).value = "
                f"{json.dumps(value)}")

    def submit(self, form):
        self.js(f"document.getElementById({json.dumps(form)})"
                ".requestSubmit()")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"},
                         self.session)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close")
        except AssertionError:
            pass
        try:
            self.p.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        os.close(self.cmd_w)
        self.reader.join()
        self.res.close()
        self.log.close()


def by_id(elem):
    return f"document.getElementById({json.dumps(elem)})"


def text_of(elem):
    return f"{by_id(elem)}.textContent"


class DashboardTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="check_dashboard.")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start(self, admin=""):
        d = Daemon(self.tmp, admin)
        self.addCleanup(d.stop)
        b = Browser(self.tmp)
        self.addCleanup(b.close)
        self.addCleanup(lambda: self.assertEqual(b.exceptions, []))
        return d, b

    def client(self, d, name):
        c = Client(d.port, name)
        self.addCleanup(c.close)
        return c

    def test_clients_events_and_send(self):
        d, b = self.start()
        one = self.client(d, "dash-test-1")
        b.open(f"http://127.0.0.1:{d.http}/")
        b.wait(f"{text_of('clients')}.includes('dash-test-1')",
               "dash-test-1 in the client table")
        self.assertIn("dash-test-1", b.dom())
        b.wait(f"{text_of('feed-state')} === '● live'", "the feed live")
        self.assertEqual(b.js(text_of("clients-now")), "1")

        # A client that comes later shows in the feed, from the stream.
        two = self.client(d, "dash-test-2")
        b.wait(f"{text_of('feed')}.includes('hello #{two.id} "
               "name=dash-test-2')", "the hello event in the feed")
        b.wait(f"{text_of('clients-now')} === '2'", "2 connected")

        # A stream the browser gave up on is opened afresh by the poll.
        b.js(f"live.es.close(); {text_of('feed-state')} = ''; "
             "refresh(false)")
        b.wait(f"{text_of('feed')}.includes('the stream ended')",
               "the note of a new stream")
        b.wait(f"{text_of('feed-state')} === '● live'", "the new stream")
        three = self.client(d, "dash-test-3")
        b.wait(f"{text_of('feed')}.includes('hello #{three.id} "
               "name=dash-test-3')", "an event on the new stream")
        three.close()

        b.fill("send-target", "dash-test-1")
        b.fill("send-msg", "reboot now")
        b.submit("send-form")
        self.assertEqual(one.line(), "reboot now")
        b.wait(f"{text_of('send-result')} === 'sent to 1 client'",
               "the send's answer")

        b.js(f"{by_id('send-mode')}.value = 'push'; {by_id('send-mode')}"
             ".dispatchEvent(new Event('change'))")
        b.fill("send-msg", "firmware 2")
        b.submit("send-form")
        m = re.fullmatch(r"MSG (\d+) firmware 2", one.line())
        self.assertIsNotNone(m)
        b.wait(f"{text_of('send-result')} === 'push {m.group(1)} stored "
               "for dash-test-1'", "the push's answer")

        two.say("QUIT")
        self.assertEqual(two.line(), "BYE quit")
        b.js("refresh(false)")
        b.wait(f"{text_of('reasons')}.includes('quit')",
               "quit among the disconnect reasons")
        b.wait(f"{text_of('seen')}.includes('dash-test-2') && "
               f"{text_of('seen')}.includes('offline')",
               "dash-test-2 offline in the registry")

        # Selectors: one that matches nothing, one that does not parse.
        b.fill("clients-select", "nomatch-*")
        b.submit("clients-form")
        b.wait("document.querySelector('#clients-form .status')"
               ".textContent === 'none match'", "an empty selection")
        b.fill("clients-select", "idle>x")
        b.submit("clients-form")
        b.wait("document.querySelector('#clients-form .status.err')"
               "?.textContent.startsWith('syntax: ')", "a syntax error")

        b.fill("clients-select", "")
        b.submit("clients-form")
        b.wait(f"{text_of('clients')}.includes('dash-test-1')",
               "the whole table again")
        b.screenshot(os.path.join(BUILD, "tests", "dashboard.png"))
        with open(os.path.join(BUILD, "tests", "dashboard.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_paging(self):
        d, b = self.start()
        for i in range(150):
            self.client(d, f"page-{i:03d}")
        b.open(f"http://127.0.0.1:{d.http}/")
        status = "document.querySelector('#clients-form .status')" \
            ".textContent"
        rows = "document.querySelectorAll('#clients tr').length"
        b.wait(f"{status} === '1–100 of 150'", "the first page")
        self.assertEqual(b.js(rows), 100)
        b.js("document.querySelector('#clients-form button:last-child')"
             ".click()")
        b.wait(f"{status} === '101–150 of 150'", "the second page")
        self.assertEqual(b.js(rows), 50)
        self.assertIn("page-149", b.js(text_of("clients")))
        self.assertNotIn("page-000", b.js(text_of("clients")))
        b.fill("clients-select", "page-00?")
        b.submit("clients-form")
        b.wait(f"{status} === '1–10 of 10'", "a selection")

    def test_login(self):
        d, b = self.start(f"token = {TOKEN}\n")
        self.client(d, "dash-test-1")
        b.open(f"http://127.0.0.1:{d.http}/")
        b.wait("document.body.classList.contains('locked')",
               "the login form")
        self.assertNotIn("dash-test-1", b.dom())

        b.fill("token", "wrong")
        b.submit("login-form")
        b.wait(f"{text_of('login-msg')} === 'wrong token'", "a refusal")

        b.fill("token", TOKEN)
        b.submit("login-form")
        b.wait(f"{text_of('clients')}.includes('dash-test-1')",
               "dash-test-1 after the login")
        b.wait(f"{text_of('feed-state')} === '● live'",
               "the feed live on the cookie")
        for where in ("location.href", "document.cookie",
                      "JSON.stringify(localStorage)",
                      "JSON.stringify(sessionStorage)", text_of("token"),
                      by_id("token") + ".value"):
            self.assertNotIn(TOKEN, b.js(where), where)

        b.js(f"{by_id('logout')}.click()")
        b.wait("document.body.classList.contains('locked')",
               "the login form after logging out")
        b.js("refresh(false)")
        self.assertTrue(b.js("document.body.classList.contains('locked')"))


if __name__ == "__main__":
    if not CHROMIUM:
        print("check_dashboard: no chromium, skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
