/*
 * TLS on the client port (SPEC §9), against the real binary: the protocol
 * inside TLS, a close_notify after every BYE, third-party clients,
 * handshakes that fail or never come, pending connections against
 * max_clients, and certificates on reload and on -t.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/ssl.h>

#include "check_main.h"
#include "itest.h"

#define T		1000	/* ms to wait for an answer that is due */
#define LATE_MS		100	/* how late SPEC allows a drop to be */
#define HELLO_MS	300	/* hello_timeout of the deadline tests */
#define SPAWN_MS	5000	/* a third-party client's first answer */
#define BIG_LINE	40000	/* a SEND longer than two TLS records */
#define BACKLOG		200	/* BIG_LINE messages to a client not reading */
#define EXIT_CONFIG	78

static struct hbd *start(const char *, const char *, const char *,
		    const char *);
static struct hbc *tls_client(struct hbd *);
static void	 ping(struct hbc *);
static void	 expect_reject(struct hbd *, struct hbc *, int, const char *);
static char	*copy_file(const char *, const char *);
static void	 expect_cause(const char *, const char *, const char *,
		    const char *, const char *);

static struct hb_pki	*pki;	/* what the daemon serves */
static struct hb_pki	*pki2;	/* what a reload brings */
static const char *const no_clients[] = { NULL };

/*
 * Starts a daemon with a plain and a TLS client listener on 127.0.0.1:0,
 * the extra [server] keys, and cert, key and the extra keys in [tls].
 */
static struct hbd *
start(const char *server, const char *cert, const char *key,
    const char *tls)
{
	char	 conf[4096];

	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:0\n"
	    "tls_listen = 127.0.0.1:0\n%s[admin]\nlisten = 127.0.0.1:0\n"
	    "[tls]\ncert = %s\nkey = %s\n%s", server, cert, key, tls);
	return (hbd_start(conf));
}

/* A TLS client that trusts the CA of the daemon's certificate. */
static struct hbc *
tls_client(struct hbd *d)
{
	return (hbc_connect_tls(d->tls_port, pki->ca, NULL, NULL));
}

static void
ping(struct hbc *c)
{
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", T);
}

/*
 * The next reject is "reject addr=127.0.0.1:<port> reason=<reason>" in
 * the log and, if w is not NULL, on WATCH; port 0 stands for any.
 */
static void
expect_reject(struct hbd *d, struct hbc *w, int port, const char *reason)
{
	const char	*line;
	char		 re[128];

	if (port != 0)
		snprintf(re, sizeof(re), "^reject addr=127\\.0\\.0\\.1:%d "
		    "reason=%s$", port, reason);
	else
		snprintf(re, sizeof(re), "^reject addr=127\\.0\\.0\\.1:"
		    "[0-9]+ reason=%s$", reason);
	hb_assert_match(hbd_expect_log(d, "reject ", T), re);
	if (w == NULL)
		return;
	line = hbc_expect_prefix(w, "EVENT ", T);
	hb_assert_match(strchr(line + 6, ' ') + 1, re);
}

/* A copy of the file at path in the test's own dir, named name. */
static char *
copy_file(const char *path, const char *name)
{
	char	*text, *copy;

	text = hb_read_file(path);
	copy = hb_write_file(name, text);
	free(text);
	return (copy);
}

/*
 * s is "<prefix><conf>: [tls] <key>: <path>: <reason>" with a reason,
 * as RELOAD and -t report a file that cannot be loaded.
 */
static void
expect_cause(const char *s, const char *prefix, const char *conf,
    const char *key, const char *path)
{
	char	 want[4096];
	size_t	 n;

	n = snprintf(want, sizeof(want), "%s%s: [tls] %s: %s: ", prefix, conf,
	    key, path);
	ck_assert_msg(strncmp(s, want, n) == 0 && strlen(s) > n &&
	    strchr(s, '\n') == NULL, "expected \"%s<reason>\", got \"%s\"",
	    want, s);
}

/*
 * The protocol inside TLS: PING, HELLO, lines split across records,
 * SEND from the admin (one longer than a TLS record), LIST, and the
 * connect line and event with tls=yes, which a plain client's lack.
 */
START_TEST(test_tls_serve)
{
	struct hbd	*d;
	struct hbc	*c, *p, *a, *w;
	char		 want[128], event[160], *big;
	int		 port;

	d = start("max_line = 40000\n", pki->cert, pki->key, "");
	w = hbc_watch(d);
	c = tls_client(d);
	port = hbc_local_port(c);
	snprintf(want, sizeof(want), "connect #1 addr=127.0.0.1:%d "
	    "clients=1 tls=yes", port);
	ck_assert_str_eq(hbd_expect_log(d, "connect #1 ", T), want);
	snprintf(event, sizeof(event), "EVENT 1 %s", want);
	hbc_expect(w, event, T);
	ping(c);
	hbc_send(c, "PING a  b\r\n");
	hbc_expect(c, "PONG a  b", T);
	hbc_send(c, "PING 1\nPI");
	hbc_send(c, "NG 2\n");
	hbc_expect(c, "PONG 1", T);
	hbc_expect(c, "PONG 2", T);
	hbc_send(c, "HELLO dev-1\n");
	hbc_expect(c, "OK #1", T);
	ck_assert_str_eq(hbd_expect_log(d, "hello #1 ", T),
	    "hello #1 name=dev-1");
	hbc_expect(w, "EVENT 2 hello #1 name=dev-1", T);

	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "SEND dev-1 over tls", T), "OK 1");
	hbc_expect(c, "over tls", T);
	big = malloc(BIG_LINE + 16);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "SEND #1 ", 8);
	memset(big + 8, 'x', BIG_LINE);
	big[8 + BIG_LINE] = '\0';
	ck_assert_str_eq(hbc_cmd(a, big, T), "OK 1");
	hbc_expect(c, big + 8, T);
	free(big);
	snprintf(want, sizeof(want), "CLIENT #1 name=dev-1 "
	    "addr=127.0.0.1:%d ", port);
	hbc_send(a, "LIST\n");
	ck_assert_msg(strncmp(hbc_readline(a, T), want, strlen(want)) == 0,
	    "LIST: want \"%s...\"", want);
	hbc_expect(a, "END seq=2", T);

	p = hbc_connect(d->port);
	snprintf(want, sizeof(want), "connect #2 addr=127.0.0.1:%d "
	    "clients=2", hbc_local_port(p));
	ck_assert_str_eq(hbd_expect_log(d, "connect #2 ", T), want);
	ping(p);
	hbd_finish(d, c, p, a, w, NULL);
}
END_TEST

/*
 * Messages queued to a TLS client that does not read, more than the
 * kernel buffers take, all arrive intact and in order once it reads:
 * writes that stop short are retried as OpenSSL requires.
 */
START_TEST(test_tls_backlog)
{
	struct hbd	*d;
	struct hbc	*c, *a;
	char		*line, prefix[16];
	int		 i, n;

	d = start("max_line = 40000\nsend_buffer_limit = 67108864\n",
	    pki->cert, pki->key, "");
	c = tls_client(d);
	a = hbc_admin(d);
	line = malloc(BIG_LINE + 16);
	ck_assert_ptr_nonnull(line);
	for (i = 0; i < BACKLOG; i++) {
		n = snprintf(line, BIG_LINE + 16, "SEND #1 %d ", i);
		memset(line + n, 'a' + i % 26, BIG_LINE - (n - 8));
		line[8 + BIG_LINE] = '\n';
		hbc_sendn(a, line, 8 + BIG_LINE + 1);
		hbc_expect(a, "OK 1", T);
	}
	for (i = 0; i < BACKLOG; i++) {
		n = snprintf(prefix, sizeof(prefix), "%d ", i);
		memcpy(line, prefix, n);
		memset(line + n, 'a' + i % 26, BIG_LINE - n);
		line[BIG_LINE] = '\0';
		hbc_expect(c, line, T);
	}
	free(line);
	ping(c);
	hbd_finish(d, c, a, NULL);
}
END_TEST

/*
 * A TLS client that ends its side, with a close_notify (0) or a bare FIN
 * (1), has its complete lines answered, and is closed as "closed".
 */
START_TEST(test_tls_half_close)
{
	struct hbd	*d;
	struct hbc	*c;

	d = start("", pki->cert, pki->key, "");
	c = tls_client(d);
	hbc_send(c, "PING a\nPING b\npartial");
	if (_i == 0)
		ck_assert_int_eq(SSL_shutdown(c->ssl), 0);
	else
		ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	hbc_expect(c, "PONG a", T);
	hbc_expect(c, "PONG b", T);
	hbc_expect_closed(c, T);
	hbd_expect_disconnect(d, 1, "-", "closed");
	hbd_finish(d, c, NULL);
}
END_TEST

/* How the server comes to say goodbye, and the BYE it says. */
static const struct {
	const char	*reason;
	const char	*server;	/* [server] keys */
} byes[] = {
	{ "quit", "" },
	{ "kicked", "" },
	{ "timeout", "heartbeat_timeout = 0.3\n" },
	{ "toolong", "max_line = 16\n" },
	{ "replaced", "" },
	{ "shutdown", "" },
};

/* Every BYE over TLS is followed by a close_notify, then the close. */
START_TEST(test_tls_bye)
{
	const char	*reason = byes[_i].reason;
	struct hbd	*d;
	struct hbc	*c, *other = NULL, *a;
	int		 sig = SIGTERM;

	d = start(byes[_i].server, pki->cert, pki->key, "");
	a = hbc_admin(d);
	c = tls_client(d);
	hbc_send(c, "HELLO dev-1\n");
	hbc_expect(c, "OK #1", T);
	if (strcmp(reason, "quit") == 0)
		hbc_send(c, "QUIT\n");
	else if (strcmp(reason, "kicked") == 0)
		ck_assert_str_eq(hbc_cmd(a, "KICK dev-1", T), "OK");
	else if (strcmp(reason, "toolong") == 0) {
		hbc_send(c, "PING 0123456789abcdef\n");
		hbc_expect(c, "ERR toolong line exceeds 16 bytes", T);
	} else if (strcmp(reason, "replaced") == 0) {
		other = tls_client(d);
		hbc_send(other, "HELLO dev-1\n");
		hbc_expect(other, "OK #2", T);
	} else if (strcmp(reason, "shutdown") == 0) {
		kill(d->pid, SIGTERM);
		sig = 0;	/* a second one could end the daemon's teardown */
	}
	hbc_expect_bye(c, reason, T);
	hbd_expect_disconnect(d, 1, "dev-1", reason);
	hbc_close(c);
	if (other != NULL)
		hbc_close(other);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, sig), 0);
}
END_TEST

/* Programs that speak TLS on their own, driven through stdin/stdout. */
START_TEST(test_tls_third_party)
{
	struct hbd	*d;
	struct hbc	*c;
	char		 addr[64], socat[128];
	char		*s_client[] = { "openssl", "s_client", "-quiet",
	    "-connect", addr, "-CAfile", NULL, "-verify_return_error",
	    "-verify_hostname", "localhost", NULL };
	char		*socat_argv[] = { "socat", "-", socat, NULL };

	d = start("", pki->cert, pki->key, "");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d->tls_port);
	snprintf(socat, sizeof(socat), "OPENSSL:127.0.0.1:%d,verify=0",
	    d->tls_port);
	s_client[6] = pki->ca;
	c = hbc_spawn(_i == 0 ? s_client : socat_argv);
	hbc_send(c, "PING third party\n");
	hbc_expect(c, "PONG third party", SPAWN_MS);
	hb_assert_match(hbd_expect_log(d, "connect #1 ", T),
	    "^connect #1 addr=127\\.0\\.0\\.1:[0-9]+ clients=1 tls=yes$");
	hbc_send(c, "HELLO dev-1\n");
	hbc_expect(c, "OK #1", T);
	hbc_send(c, "QUIT\n");
	hbc_expect(c, "BYE quit", T);
	hbc_expect_closed(c, T);
	hbd_finish(d, c, NULL);
}
END_TEST

/*
 * A plain client on the TLS port fails the handshake: closed without a
 * BYE, logged and streamed as a reject, counted in handshake_failures,
 * neither a client nor one of the rejected.
 */
START_TEST(test_tls_plain_client)
{
	struct hbd	*d;
	struct hbc	*c, *a, *w;
	int		 port;

	d = start("", pki->cert, pki->key, "");
	w = hbc_watch(d);
	c = hbc_connect(d->tls_port);
	port = hbc_local_port(c);
	hbc_send(c, "PING\n");
	hbc_expect_closed(c, T);
	ck_assert_ptr_null(strstr(c->buf, "BYE"));
	expect_reject(d, w, port, "handshake");
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 1);
	ck_assert_int_eq(hbc_stat(a, "rejected"), 0);
	ck_assert_int_eq(hbc_stat(a, "accepted"), 0);
	ck_assert_int_eq(hbc_stat(a, "disconnects"), 0);
	ck_assert_int_eq(hbd_log_count(d, "connect #"), 0);
	hbd_finish(d, c, a, w, NULL);
}
END_TEST

/*
 * A connection that never finishes its handshake, silent (0) or stopped
 * in the middle of its ClientHello (1), is dropped after hello_timeout,
 * no sooner and not much later, without a word.
 */
START_TEST(test_tls_handshake_timeout)
{
	static const char	 hello_start[] = "\x16\x03\x01\x00\x80\x01";
	struct hbd		*d;
	struct hbc		*c, *a;
	long long		 before, after, got, late;

	late = LATE_MS * hb_slow_factor();
	d = start("hello_timeout = 0.3\n", pki->cert, pki->key, "");
	before = hb_now_ms();
	c = hbc_connect(d->tls_port);
	after = hb_now_ms();
	if (_i == 1)
		hbc_sendn(c, hello_start, sizeof(hello_start) - 1);
	ck_assert_msg(hbc_expect_eof(c, HELLO_MS + late + T),
	    "not dropped within %lld ms", HELLO_MS + late + T);
	got = hb_now_ms();
	ck_assert_int_eq(c->len, 0);
	ck_assert_msg(got - before >= HELLO_MS, "dropped after %lld ms, "
	    "before hello_timeout", got - before);
	ck_assert_msg(got - after <= HELLO_MS + late, "dropped after %lld ms, "
	    "more than %lld ms late", got - after, late);
	expect_reject(d, NULL, hbc_local_port(c), "handshake");
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 1);
	hbd_finish(d, c, a, NULL);
}
END_TEST

/*
 * A client that speaks TLS 1.2 at most is served with min_version = 1.2
 * (0) and refused with 1.3 (1); a TLS 1.3 client is served by both.
 */
START_TEST(test_tls_min_version)
{
	struct hbc_tls	 t12 = { NULL, NULL, NULL, TLS1_2_VERSION };
	struct hbd	*d;
	struct hbc	*c, *a;
	const char	*why;

	t12.ca = pki->ca;
	d = start("", pki->cert, pki->key, _i == 0 ? "min_version = 1.2\n" :
	    "min_version = 1.3\n");
	c = tls_client(d);
	ck_assert_int_eq(SSL_version(c->ssl), TLS1_3_VERSION);
	ping(c);
	a = hbc_admin(d);
	if (_i == 0) {
		hbc_close(c);
		c = hbc_tls_open(d->tls_port, &t12, &why);
		ck_assert_msg(c != NULL, "TLS 1.2 refused: %s", why);
		ck_assert_int_eq(SSL_version(c->ssl), TLS1_2_VERSION);
		ping(c);
		ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 0);
	} else {
		hbc_expect_tls_refused(d->tls_port, &t12, T);
		expect_reject(d, NULL, 0, "handshake");
		ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 1);
	}
	hbd_finish(d, c, a, NULL);
}
END_TEST

/*
 * Pending handshakes count against max_clients: with max_clients = 3 and
 * three connections that have not finished theirs, a fourth TLS client
 * and a plain one are refused as full; once one pending connection is
 * gone, a TLS client gets in, as #1: pending connections have no id.
 */
START_TEST(test_tls_full)
{
	struct hbc_tls	 t = { NULL, NULL, NULL, 0 };
	struct hbd	*d;
	struct hbc	*raw[3], *p, *c, *a;
	int		 i;

	t.ca = pki->ca;
	d = start("max_clients = 3\nhello_timeout = 10\n", pki->cert,
	    pki->key, "");
	for (i = 0; i < 3; i++)
		raw[i] = hbc_connect(d->tls_port);
	hbc_expect_tls_refused(d->tls_port, &t, T);
	expect_reject(d, NULL, 0, "full");
	p = hbc_connect(d->port);
	hbc_expect_bye(p, "full", T);
	expect_reject(d, NULL, hbc_local_port(p), "full");
	hbc_close(p);
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "rejected"), 2);
	ck_assert_int_eq(hbc_stat(a, "accepted"), 0);
	ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 0);

	hbc_close(raw[0]);
	expect_reject(d, NULL, 0, "handshake");
	c = tls_client(d);
	hbc_send(c, "HELLO dev-1\n");
	hbc_expect(c, "OK #1", T);
	hbd_finish(d, c, raw[1], raw[2], a, NULL);
}
END_TEST

/*
 * Admission is decided once the handshake is done: over
 * max_clients_per_ip, a TLS client is told "BYE per-ip" inside TLS, with
 * its close_notify, and is one of the rejected.
 */
START_TEST(test_tls_per_ip)
{
	struct hbd	*d;
	struct hbc	*c, *c2, *a;
	int		 port;

	d = start("max_clients_per_ip = 1\n", pki->cert, pki->key, "");
	c = tls_client(d);
	ping(c);
	c2 = tls_client(d);
	port = hbc_local_port(c2);
	hbc_expect_bye(c2, "per-ip", T);
	expect_reject(d, NULL, port, "per-ip");
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "rejected"), 1);
	ck_assert_int_eq(hbc_stat(a, "accepted"), 1);
	ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 0);
	ping(c);
	hbd_finish(d, c, c2, a, NULL);
}
END_TEST

/*
 * A reload re-reads the certificate and key, even at the same paths: new
 * connections get the new ones, an open one keeps working.
 */
START_TEST(test_tls_reload)
{
	struct hbc_tls	 t = { NULL, NULL, NULL, 0 };
	struct hbd	*d;
	struct hbc	*old, *c, *a;
	char		*cert, *key;

	cert = copy_file(pki->cert, "server.pem");
	key = copy_file(pki->key, "server.key");
	d = start("", cert, key, "");
	old = tls_client(d);
	ping(old);
	free(copy_file(pki2->cert, "server.pem"));
	free(copy_file(pki2->key, "server.key"));
	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "RELOAD", T), "OK unchanged");
	ping(old);
	c = hbc_connect_tls(d->tls_port, pki2->ca, NULL, NULL);
	ping(c);
	t.ca = pki->ca;
	hbc_expect_tls_refused(d->tls_port, &t, T);
	ping(old);
	free(cert);
	free(key);
	hbd_finish(d, old, c, a, NULL);
}
END_TEST

/* Ways to break the certificate or key before a reload or -t. */
static const struct {
	const char	*key;		/* the [tls] key reported */
	const char	*cert;		/* what the file holds; NULL: none */
	int		 mismatch;	/* another certificate's key */
} breaks[] = {
	{ "cert", "not a certificate\n", 0 },
	{ "cert", NULL, 0 },
	{ "key", NULL, 1 },
};

/*
 * A reload with a certificate or key that cannot be loaded answers
 * "ERR config FILE: [tls] KEY: PATH: reason" and changes nothing: the
 * old certificate is still served, open connections go on.
 */
START_TEST(test_tls_reload_broken)
{
	struct hbd	*d;
	struct hbc	*old, *c, *a;
	const char	*line;
	char		*cert, *key;

	cert = copy_file(pki->cert, "server.pem");
	key = copy_file(pki->key, "server.key");
	d = start("", cert, key, "");
	old = tls_client(d);
	if (breaks[_i].mismatch)
		free(copy_file(pki2->key, "server.key"));
	else if (breaks[_i].cert != NULL)
		free(hb_write_file("server.pem", breaks[_i].cert));
	else
		ck_assert_int_eq(unlink(cert), 0);
	a = hbc_admin(d);
	line = hbc_cmd(a, "RELOAD", T);
	expect_cause(line, "ERR config ", d->conf, breaks[_i].key,
	    breaks[_i].mismatch ? key : cert);
	expect_cause(hbd_expect_log(d, "reload failed: ", T),
	    "reload failed: ", d->conf, breaks[_i].key,
	    breaks[_i].mismatch ? key : cert);
	ping(old);
	c = tls_client(d);
	ping(c);
	free(cert);
	free(key);
	hbd_finish(d, old, c, a, NULL);
}
END_TEST

/*
 * -t loads the certificate and key: fine ones pass (_i 0), a broken one
 * exits 78 naming the key and the file (_i 1..).
 */
START_TEST(test_tls_check_config)
{
	char	 conf[4096], *path, *cert, *key, *out, *err;
	int	 code, bad = _i - 1;

	cert = copy_file(pki->cert, "server.pem");
	key = copy_file(pki->key, "server.key");
	if (bad >= 0 && breaks[bad].mismatch)
		free(copy_file(pki2->key, "server.key"));
	else if (bad >= 0 && breaks[bad].cert != NULL)
		free(hb_write_file("server.pem", breaks[bad].cert));
	else if (bad >= 0)
		ck_assert_int_eq(unlink(cert), 0);
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:0\n"
	    "tls_listen = 127.0.0.1:0\n[tls]\ncert = %s\nkey = %s\n", cert,
	    key);
	path = hb_write_file("check.conf", conf);
	code = hb_run(&out, &err, "-t", "-c", path, NULL);
	if (bad < 0) {
		ck_assert_int_eq(code, 0);
		snprintf(conf, sizeof(conf), "config ok: %s\n", path);
		ck_assert_str_eq(out, conf);
	} else {
		ck_assert_int_eq(code, EXIT_CONFIG);
		ck_assert_str_eq(out, "");
		err[strcspn(err, "\n")] = '\0';
		expect_cause(err, "heartbeatd: ", path, breaks[bad].key,
		    breaks[bad].mismatch ? key : cert);
	}
	free(out);
	free(err);
	free(path);
	free(cert);
	free(key);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	pki = hb_pki_new("heartbeatd test CA", no_clients);
	pki2 = hb_pki_new("heartbeatd reload CA", no_clients);
	s = suite_create("tls");
	HB_TCASE(s, "serve", test_tls_serve, 1);
	HB_TCASE(s, "backlog", test_tls_backlog, 1);
	HB_TCASE(s, "half_close", test_tls_half_close, 2);
	HB_TCASE(s, "bye", test_tls_bye, nitems(byes));
	HB_TCASE(s, "third_party", test_tls_third_party, 2);
	HB_TCASE(s, "plain_client", test_tls_plain_client, 1);
	HB_TCASE(s, "handshake_timeout", test_tls_handshake_timeout, 2);
	HB_TCASE(s, "min_version", test_tls_min_version, 2);
	HB_TCASE(s, "full", test_tls_full, 1);
	HB_TCASE(s, "per_ip", test_tls_per_ip, 1);
	HB_TCASE(s, "reload", test_tls_reload, 1);
	HB_TCASE(s, "reload_broken", test_tls_reload_broken, nitems(breaks));
	HB_TCASE(s, "check_config", test_tls_check_config,
	    nitems(breaks) + 1);
	return (s);
}
