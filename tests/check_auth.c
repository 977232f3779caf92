/*
 * Proof of a name on the client port (SPEC §9 [auth]), against the real
 * binary: tokens minted by the admin and by the test itself, what an
 * unproven connection may do and how long, names that change hands only
 * to a proven connection, certificate names, and verify_client.
 */

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "check_main.h"
#include "itest.h"

#define T		1000	/* ms to wait for an answer that is due */
#define LATE_MS		100	/* how late SPEC allows a drop to be */
#define PACE_MS		100	/* between the lines of an unproven client */
#define HELLO_S		"0.6"	/* hello_timeout of the deadline tests */
#define HELLO_MS	600
#define TTL		3600	/* s: a token's lifetime in the tests */

/* The bytes 0 to 31, and 32 to 63 for the secret_file. */
#define SECRET \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SECRET2 \
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define TOKEN_AUTH	"mode = token\nsecret = " SECRET "\n"
#define CERT_AUTH	"mode = cert\n"
#define ANY_AUTH	"mode = any\nsecret = " SECRET "\n"
#define OPTIONAL	"verify_client = optional\n"

static struct hbd *start(const char *, const char *, const char *);
static void	 mint(const char *, const char *, unsigned long long, char *,
		    size_t);
static void	 hello(struct hbc *, const char *, const char *,
		    const char *);
static void	 prove(struct hbc *, const char *, const char *);
static void	 ping(struct hbc *);
static struct hbc *cert_client(struct hbd *, const char *);
static struct hbc *nocert_client(struct hbd *);
static void	 expect_event(struct hbc *, const char *);
static void	 expect_bad_token(struct hbd *, struct hbc *, int);

static struct hb_pki	*pki;		/* the daemon's CA */
static struct hb_pki	*foreign;	/* a CA the daemon does not know */
static const char *const cns[] = { "dev-1", "dev-2", "bad name", NULL };

/*
 * Starts a daemon with a plain and a TLS client listener on 127.0.0.1:0,
 * the extra [server] keys, [tls] with the test CA for client
 * certificates and the extra keys, and [auth] as given.
 */
static struct hbd *
start(const char *server, const char *tls, const char *auth)
{
	char	 conf[4096];

	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:0\n"
	    "tls_listen = 127.0.0.1:0\n%s[admin]\nlisten = 127.0.0.1:0\n"
	    "[tls]\ncert = %s\nkey = %s\nca = %s\n%s[auth]\n%s", server,
	    pki->cert, pki->key, pki->ca, tls, auth);
	return (hbd_start(conf));
}

/*
 * A token for name as SPEC §9 defines it, computed here and not by the
 * daemon's code: "v1.<expiry>." and the lower-case hex HMAC-SHA256 of
 * "v1.<name>.<expiry>", keyed with the bytes the hex secret stands for.
 */
static void
mint(const char *secret, const char *name, unsigned long long expiry,
    char *token, size_t size)
{
	unsigned char	 key[256], mac[EVP_MAX_MD_SIZE];
	char		 msg[128];
	unsigned int	 maclen, i;
	size_t		 keylen;
	int		 n;

	for (keylen = 0; secret[2 * keylen] != '\0'; keylen++)
		ck_assert_int_eq(sscanf(secret + 2 * keylen, "%2hhx",
		    &key[keylen]), 1);
	n = snprintf(msg, sizeof(msg), "v1.%s.%llu", name, expiry);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, keylen,
	    (unsigned char *)msg, n, mac, &maclen));
	n = snprintf(token, size, "v1.%llu.", expiry);
	for (i = 0; i < maclen; i++)
		n += snprintf(token + n, size - n, "%02x", mac[i]);
}

/* Sends "HELLO name" with token (unless NULL), expects the answer want. */
static void
hello(struct hbc *c, const char *name, const char *token, const char *want)
{
	char	 line[512];

	snprintf(line, sizeof(line), "HELLO %s%s%s\n", name,
	    token != NULL ? " token=" : "", token != NULL ? token : "");
	hbc_send(c, line);
	hbc_expect(c, want, T);
}

/* HELLO with a valid token for name, without expiry; want is the answer. */
static void
prove(struct hbc *c, const char *name, const char *want)
{
	char	 token[128];

	mint(SECRET, name, 0, token, sizeof(token));
	hello(c, name, token, want);
}

static void
ping(struct hbc *c)
{
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", T);
}

/* A TLS client with the test CA's certificate for cn. */
static struct hbc *
cert_client(struct hbd *d, const char *cn)
{
	const char	*cert, *key;

	hb_pki_client(pki, cn, &cert, &key);
	return (hbc_connect_tls(d->tls_port, pki->ca, cert, key));
}

/* A TLS client without a certificate. */
static struct hbc *
nocert_client(struct hbd *d)
{
	return (hbc_connect_tls(d->tls_port, pki->ca, NULL, NULL));
}

/* The next event on w, without its "EVENT <seq> ", is exactly want. */
static void
expect_event(struct hbc *w, const char *want)
{
	const char	*line;

	line = hbc_expect_prefix(w, "EVENT ", T);
	ck_assert_str_eq(strchr(line + 6, ' ') + 1, want);
}

/*
 * c, client #id, answered "ERR auth bad token" already, is closed with
 * "BYE auth" and counted in auth_failures.
 */
static void
expect_bad_token(struct hbd *d, struct hbc *c, int id)
{
	struct hbc	*a;

	hbc_expect_bye(c, "auth", T);
	hbd_expect_disconnect(d, id, "-", "auth");
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "auth_failures"), 1);
	hbc_close(a);
}

/*
 * A valid token names the connection, with auth=token on the hello line
 * and event: minted by TOKEN with no expiry (0, which must be the token
 * SPEC defines) or with a ttl (1), computed here (2), and over TLS (3).
 */
START_TEST(test_auth_token)
{
	struct hbd	*d;
	struct hbc	*c, *a, *w;
	const char	*line;
	char		 token[128], want[160];
	long long	 expiry;

	d = start("", "", TOKEN_AUTH);
	w = hbc_watch(d);
	a = hbc_admin(d);
	if (_i == 0) {
		line = hbc_cmd(a, "TOKEN dev-1 0", T);
		mint(SECRET, "dev-1", 0, token, sizeof(token));
		snprintf(want, sizeof(want), "OK %s", token);
		ck_assert_str_eq(line, want);
	} else if (_i == 1) {
		line = hbc_cmd(a, "TOKEN dev-1 3600", T);
		hb_assert_match(line, "^OK v1\\.[1-9][0-9]*\\.[0-9a-f]{64}$");
		expiry = strtoll(line + 6, NULL, 10);
		ck_assert_int_ge(expiry, (long long)time(NULL) + TTL - 5);
		ck_assert_int_le(expiry, (long long)time(NULL) + TTL);
		snprintf(token, sizeof(token), "%s", line + 3);
	} else
		mint(SECRET, "dev-1", time(NULL) + TTL, token, sizeof(token));
	c = _i == 3 ? nocert_client(d) : hbc_connect(d->port);
	hello(c, "dev-1", token, "OK #1");
	ck_assert_str_eq(hbd_expect_log(d, "hello #1 ", T),
	    "hello #1 name=dev-1 auth=token");
	hbc_expect_prefix(w, "EVENT 1 connect #1 ", T);
	expect_event(w, "hello #1 name=dev-1 auth=token");
	ping(c);
	hbc_send(a, "LIST\n");
	hb_assert_match(hbc_readline(a, T), "^CLIENT #1 name=dev-1 ");
	hbd_finish(d, c, a, w, NULL);
}
END_TEST

/*
 * Until its HELLO, a connection may send only HELLO and QUIT: any other
 * line gets "ERR auth hello first", is no PING, no data and no heartbeat
 * (LIST's idle goes on growing), and the hello_timeout deadline, counted
 * from connecting, ends it with "BYE auth".
 */
START_TEST(test_auth_hello_first)
{
	static const char *const lines[] = { "PING\n", "data\n", "\n",
	    "PING x\r\n" };
	struct hbd	*d;
	struct hbc	*c, *a;
	const char	*line;
	long long	 before, after, got, late;
	double		 idle;
	size_t		 i;

	late = LATE_MS * hb_slow_factor();
	d = start("hello_timeout = " HELLO_S "\n", "", TOKEN_AUTH);
	before = hb_now_ms();
	c = hbc_connect(d->port);
	after = hb_now_ms();
	for (i = 0; i < nitems(lines); i++) {
		hbc_send(c, lines[i]);
		hbc_expect(c, "ERR auth hello first", T);
		hbc_expect_silence(c, PACE_MS);
	}
	a = hbc_admin(d);
	hbc_send(a, "LIST\n");
	line = hbc_readline(a, T);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, " idle="));
	idle = strtod(strstr(line, " idle=") + 6, NULL);
	ck_assert_msg(idle >= (nitems(lines) * PACE_MS - 50) / 1000.0,
	    "idle=%.1f after %zu lines: they counted as heartbeats", idle,
	    nitems(lines));
	hbc_expect_prefix(a, "END ", T);
	ck_assert_int_eq(hbc_stat(a, "pings"), 0);
	ck_assert_int_eq(hbc_stat(a, "data_lines"), 0);

	hbc_expect(c, "BYE auth", HELLO_MS + late + T);
	got = hb_now_ms();
	hbc_expect_closed(c, T);
	ck_assert_msg(got - before >= HELLO_MS, "dropped after %lld ms, "
	    "before hello_timeout", got - before);
	ck_assert_msg(got - after <= HELLO_MS + late, "dropped after %lld ms, "
	    "more than %lld ms late", got - after, late);
	hbd_expect_disconnect(d, 1, "-", "auth");
	ck_assert_int_eq(hbc_stat(a, "auth_failures"), 1);
	hbd_finish(d, c, a, NULL);
}
END_TEST

/*
 * A silent connection, plain (0) or TLS (1), is dropped with "BYE auth"
 * at hello_timeout; QUIT is allowed before HELLO (2).
 */
START_TEST(test_auth_hello_timeout)
{
	struct hbd	*d;
	struct hbc	*c, *a;
	long long	 before, got, late;

	late = LATE_MS * hb_slow_factor();
	d = start("hello_timeout = " HELLO_S "\n", "", TOKEN_AUTH);
	before = hb_now_ms();
	c = _i == 1 ? nocert_client(d) : hbc_connect(d->port);
	if (_i == 2) {
		hbc_send(c, "QUIT\n");
		hbc_expect_bye(c, "quit", T);
		hbd_expect_disconnect(d, 1, "-", "quit");
		hbd_finish(d, c, NULL);
		return;
	}
	hbc_expect_bye(c, "auth", HELLO_MS + late + T);
	got = hb_now_ms();
	ck_assert_msg(got - before >= HELLO_MS, "dropped after %lld ms, "
	    "before hello_timeout", got - before);
	hbd_expect_disconnect(d, 1, "-", "auth");
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "auth_failures"), 1);
	hbd_finish(d, c, a, NULL);
}
END_TEST

/* How a HELLO's token can be wrong. */
enum bad_token {
	BAD_MAC, OTHER_NAME, EXPIRED, EXPIRY_CHANGED, MISSING, GARBAGE,
	BAD_TOKENS
};

/*
 * A wrong, expired or missing token gets "ERR auth bad token", then
 * "BYE auth", and the connection is closed.
 */
START_TEST(test_auth_bad_token)
{
	struct hbd	*d;
	struct hbc	*c;
	char		 token[128], forged[128];
	long long	 expiry = time(NULL) + TTL;
	size_t		 n;

	d = start("", "", TOKEN_AUTH);
	mint(SECRET, "dev-1", expiry, token, sizeof(token));
	switch (_i) {
	case BAD_MAC:
		n = strlen(token) - 1;
		token[n] = token[n] == '0' ? '1' : '0';
		break;
	case OTHER_NAME:
		mint(SECRET, "dev-2", time(NULL) + TTL, token, sizeof(token));
		break;
	case EXPIRED:
		mint(SECRET, "dev-1", time(NULL) - 10, token, sizeof(token));
		break;
	case EXPIRY_CHANGED:
		snprintf(forged, sizeof(forged), "v1.%lld.%.64s", expiry + 1,
		    strrchr(token, '.') + 1);
		memcpy(token, forged, sizeof(token));
		break;
	case GARBAGE:
		snprintf(token, sizeof(token), "v2.0.xyz");
		break;
	}
	c = hbc_connect(d->port);
	hello(c, "dev-1", _i == MISSING ? NULL : token, "ERR auth bad token");
	expect_bad_token(d, c, 1);
	hbd_finish(d, c, NULL);
}
END_TEST

/*
 * A second HELLO needs a token for the new name: one for it renames (0),
 * the old name's (1) or none (2) is a bad token.
 */
START_TEST(test_auth_rename)
{
	struct hbd	*d;
	struct hbc	*c;
	char		 token[128];

	d = start("", "", TOKEN_AUTH);
	c = hbc_connect(d->port);
	prove(c, "dev-1", "OK #1");
	if (_i == 0) {
		prove(c, "dev-2", "OK #1");
		ck_assert_str_eq(hbd_expect_log(d, "hello #1 name=dev-2", T),
		    "hello #1 name=dev-2 auth=token");
		ping(c);
	} else {
		mint(SECRET, "dev-1", 0, token, sizeof(token));
		hello(c, "dev-2", _i == 1 ? token : NULL,
		    "ERR auth bad token");
		hbc_expect_bye(c, "auth", T);
		hbd_expect_disconnect(d, 1, "dev-1", "auth");
	}
	hbd_finish(d, c, NULL);
}
END_TEST

/*
 * duplicate_name = replace hands a name only to a connection that proves
 * it: a bad token leaves the holder alone, a good one replaces it.
 */
START_TEST(test_auth_replace)
{
	struct hbd	*d;
	struct hbc	*c1, *c2, *c3;

	d = start("duplicate_name = replace\n", "", TOKEN_AUTH);
	c1 = hbc_connect(d->port);
	prove(c1, "dev-1", "OK #1");
	c2 = hbc_connect(d->port);
	hello(c2, "dev-1", "v1.0.0123", "ERR auth bad token");
	expect_bad_token(d, c2, 2);
	ping(c1);
	c3 = hbc_connect(d->port);
	prove(c3, "dev-1", "OK #3");
	hbc_expect_bye(c1, "replaced", T);
	hbd_expect_disconnect(d, 1, "dev-1", "replaced");
	ping(c3);
	hbd_finish(d, c1, c2, c3, NULL);
}
END_TEST

/*
 * Without a secret TOKEN is "ERR config no auth secret", in mode none (0)
 * as in mode cert (1); in mode none a HELLO's token is ignored and the
 * hello line has no auth=.
 */
START_TEST(test_auth_no_secret)
{
	struct hbd	*d;
	struct hbc	*c, *a;

	d = start("", "", _i == 0 ? "mode = none\n" : CERT_AUTH);
	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "TOKEN dev-1 0", T),
	    "ERR config no auth secret");
	if (_i == 0) {
		c = hbc_connect(d->port);
		hello(c, "dev-1", "v1.0.nonsense", "OK #1");
		ck_assert_str_eq(hbd_expect_log(d, "hello #1 ", T),
		    "hello #1 name=dev-1");
		hbc_close(c);
	}
	hbd_finish(d, a, NULL);
}
END_TEST

/* The secret may come from secret_file, its first line. */
START_TEST(test_auth_secret_file)
{
	struct hbd	*d;
	struct hbc	*c, *a;
	char		 auth[512], token[128], want[160];
	char		*path;

	path = hb_write_file("secret", SECRET2 "\n");
	snprintf(auth, sizeof(auth), "mode = token\nsecret_file = %s\n", path);
	d = start("", "", auth);
	a = hbc_admin(d);
	mint(SECRET2, "dev-1", 0, token, sizeof(token));
	snprintf(want, sizeof(want), "OK %s", token);
	ck_assert_str_eq(hbc_cmd(a, "TOKEN dev-1 0", T), want);
	c = hbc_connect(d->port);
	hello(c, "dev-1", token, "OK #1");
	free(path);
	hbd_finish(d, c, a, NULL);
}
END_TEST

/*
 * Mode cert: the certificate's CN names the connection at the handshake,
 * with the hello line and event (auth=cert) right after the connect, no
 * HELLO needed; a HELLO for that name is fine, one for another is
 * refused and the connection stays. A second connection with the same
 * CN replaces it (0), or with duplicate_name = reject is refused (1),
 * as no connection stays unnamed.
 */
START_TEST(test_auth_cert)
{
	struct hbd	*d;
	struct hbc	*c, *c2, *w, *a;
	char		 want[128];

	d = start(_i == 0 ? "" : "duplicate_name = reject\n", OPTIONAL,
	    CERT_AUTH);
	w = hbc_watch(d);
	c = cert_client(d, "dev-1");
	snprintf(want, sizeof(want), "connect #1 addr=127.0.0.1:%d "
	    "clients=1 tls=yes", hbc_local_port(c));
	ck_assert_str_eq(hbd_expect_log(d, "connect #1 ", T), want);
	ck_assert_str_eq(hbd_expect_log(d, "hello #1 ", T),
	    "hello #1 name=dev-1 auth=cert");
	expect_event(w, want);
	expect_event(w, "hello #1 name=dev-1 auth=cert");
	ping(c);
	hello(c, "dev-1", NULL, "OK #1");
	hello(c, "dev-2", NULL, "ERR auth name bound to certificate");
	ping(c);
	a = hbc_admin(d);
	hbc_send(a, "LIST\n");
	hb_assert_match(hbc_readline(a, T), "^CLIENT #1 name=dev-1 ");

	c2 = cert_client(d, "dev-1");
	if (_i == 0) {
		hbc_expect_bye(c, "replaced", T);
		hbd_expect_disconnect(d, 1, "dev-1", "replaced");
		ping(c2);
	} else {
		hbc_expect(c2, "ERR taken name in use", T);
		hbc_expect_bye(c2, "auth", T);
		hbd_expect_disconnect(d, 2, "-", "auth");
		ping(c);
	}
	hbd_finish(d, c, c2, w, a, NULL);
}
END_TEST

/*
 * Mode cert: a TLS client without a certificate (0), a plain TCP client
 * (1) and a certificate whose CN is no valid name (2) get "BYE auth" at
 * once.
 */
START_TEST(test_auth_cert_refused)
{
	struct hbd	*d;
	struct hbc	*c, *a;

	d = start("hello_timeout = 10\n", OPTIONAL, CERT_AUTH);
	if (_i == 0)
		c = nocert_client(d);
	else if (_i == 1)
		c = hbc_connect(d->port);
	else
		c = cert_client(d, "bad name");
	hbc_expect_bye(c, "auth", T);
	hbd_expect_disconnect(d, 1, "-", "auth");
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "auth_failures"), 1);
	ck_assert_int_eq(hbc_stat(a, "clients"), 0);
	hbd_finish(d, c, a, NULL);
}
END_TEST

/*
 * Mode any: a certificate names the connection as in mode cert (0); a
 * TLS client without one (1) and a plain one (2) prove a name by token.
 */
START_TEST(test_auth_any)
{
	struct hbd	*d;
	struct hbc	*c;

	d = start("", OPTIONAL, ANY_AUTH);
	if (_i == 0) {
		c = cert_client(d, "dev-1");
		ck_assert_str_eq(hbd_expect_log(d, "hello #1 ", T),
		    "hello #1 name=dev-1 auth=cert");
		ping(c);
		hbd_finish(d, c, NULL);
		return;
	}
	c = _i == 1 ? nocert_client(d) : hbc_connect(d->port);
	hbc_send(c, "PING\n");
	hbc_expect(c, "ERR auth hello first", T);
	prove(c, "dev-2", "OK #1");
	ck_assert_str_eq(hbd_expect_log(d, "hello #1 ", T),
	    "hello #1 name=dev-2 auth=token");
	ping(c);
	hbd_finish(d, c, NULL);
}
END_TEST

/*
 * A reload re-reads the CA file, even at the same path: new connections
 * are verified against the new CA, an open one keeps its name.
 */
START_TEST(test_auth_reload_ca)
{
	struct hbc_tls	 t = { NULL, NULL, NULL, 0 };
	struct hbd	*d;
	struct hbc	*old, *c, *a;
	char		 conf[4096], *ca, *text;

	text = hb_read_file(pki->ca);
	ca = hb_write_file("ca.pem", text);
	free(text);
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:0\n"
	    "tls_listen = 127.0.0.1:0\n[admin]\nlisten = 127.0.0.1:0\n"
	    "[tls]\ncert = %s\nkey = %s\nca = %s\n" OPTIONAL
	    "[auth]\n" CERT_AUTH, pki->cert, pki->key, ca);
	d = hbd_start(conf);
	old = cert_client(d, "dev-1");
	ping(old);
	text = hb_read_file(foreign->ca);
	free(hb_write_file("ca.pem", text));
	free(text);
	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "RELOAD", T), "OK unchanged");
	t.ca = pki->ca;
	hb_pki_client(pki, "dev-2", &t.cert, &t.key);
	hbc_expect_tls_refused(d->tls_port, &t, T);
	hb_pki_client(foreign, "dev-2", &t.cert, &t.key);
	c = hbc_connect_tls(d->tls_port, pki->ca, t.cert, t.key);
	ck_assert_str_eq(hbd_expect_log(d, "hello #2 ", T),
	    "hello #2 name=dev-2 auth=cert");
	ping(c);
	ping(old);
	hbc_send(a, "LIST\n");
	hb_assert_match(hbc_readline(a, T), "^CLIENT #1 name=dev-1 ");
	hb_assert_match(hbc_readline(a, T), "^CLIENT #2 name=dev-2 ");
	free(ca);
	hbd_finish(d, old, c, a, NULL);
}
END_TEST

/*
 * verify_client = require: a client without a certificate fails the
 * handshake (0), one with the CA's certificate is served (1); a
 * certificate from another CA fails it even with optional (2).
 */
START_TEST(test_auth_verify_client)
{
	struct hbc_tls	 t = { NULL, NULL, NULL, 0 };
	struct hbd	*d;
	struct hbc	*c, *a;

	d = start("", _i == 2 ? OPTIONAL : "verify_client = require\n",
	    "mode = none\n");
	a = hbc_admin(d);
	t.ca = pki->ca;
	if (_i == 1) {
		c = cert_client(d, "dev-1");
		ping(c);
		ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 0);
		hbd_finish(d, c, a, NULL);
		return;
	}
	if (_i == 2)
		hb_pki_client(foreign, "dev-1", &t.cert, &t.key);
	hbc_expect_tls_refused(d->tls_port, &t, T);
	hb_assert_match(hbd_expect_log(d, "reject ", T),
	    "^reject addr=127\\.0\\.0\\.1:[0-9]+ reason=handshake$");
	ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 1);
	ck_assert_int_eq(hbc_stat(a, "accepted"), 0);
	hbd_finish(d, a, NULL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	pki = hb_pki_new("heartbeatd test CA", cns);
	foreign = hb_pki_new("heartbeatd foreign CA", cns);
	s = suite_create("auth");
	HB_TCASE(s, "token", test_auth_token, 4);
	HB_TCASE(s, "hello_first", test_auth_hello_first, 1);
	HB_TCASE(s, "hello_timeout", test_auth_hello_timeout, 3);
	HB_TCASE(s, "bad_token", test_auth_bad_token, BAD_TOKENS);
	HB_TCASE(s, "rename", test_auth_rename, 3);
	HB_TCASE(s, "replace", test_auth_replace, 1);
	HB_TCASE(s, "no_secret", test_auth_no_secret, 2);
	HB_TCASE(s, "secret_file", test_auth_secret_file, 1);
	HB_TCASE(s, "cert", test_auth_cert, 2);
	HB_TCASE(s, "cert_refused", test_auth_cert_refused, 3);
	HB_TCASE(s, "any", test_auth_any, 3);
	HB_TCASE(s, "verify_client", test_auth_verify_client, 3);
	HB_TCASE(s, "reload_ca", test_auth_reload_ca, 1);
	return (s);
}
