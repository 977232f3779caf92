/*
 * The PROXY protocol on the client port (SPEC §9), against the real
 * binary: a connection from proxy_from is a client only once its v1 or v2
 * header is read, under the header's source address everywhere (logs,
 * LIST, max_clients_per_ip, @ targets); a missing, malformed or late
 * header closes it without a word, as a reject with reason proxy; and a
 * connection from elsewhere never carries one.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define T		1000	/* ms to wait for an answer that is due */
#define QUIET		100	/* ms of silence: nothing is sent */
#define HELLO_MS	300	/* hello_timeout of the deadline tests */

#define PROXY_LINE	"PROXY TCP4 192.0.2.7 127.0.0.1 53311 7000"
#define V1_REAL		PROXY_LINE "\r\n"
#define V2_HDRLEN	16
#define V2_MAX		(V2_HDRLEN + 36 + 64)
#define V2_LOCAL	0x0	/* command: keep the socket's address */
#define V2_PROXY	0x1
#define V2_UNSPEC	0x00	/* address family and transport */
#define V2_TCP4		0x11
#define V2_TCP6		0x21
#define V2_NOOP		0x04	/* a TLV type that means nothing */

static struct hbd *start(const char *, const char *);
static size_t	 v2(unsigned char *, int, int, const char *, int, size_t);
static struct hbc *proxied(struct hbd *, const void *, size_t);
static void	 ping(struct hbc *);
static void	 send_pieces(struct hbc *, const void *, size_t,
		    const size_t []);
static void	 expect_addrs(struct hbd *, const char *const []);
static void	 expect_quiet_close_in(struct hbd *, struct hbc *,
		    const char *, int);
static void	 expect_quiet_close(struct hbd *, struct hbc *,
		    const char *);
static void	 expect_counts(struct hbd *, long long, long long);

/*
 * A daemon on 127.0.0.1:0 (and [::1]:0) that wants a PROXY header from
 * the networks in from, with the extra [server] keys.
 */
static struct hbd *
start(const char *from, const char *server)
{
	char	 conf[1024];

	snprintf(conf, sizeof(conf), "[server]\n"
	    "listen = 127.0.0.1:0 [::1]:0\nproxy_from = %s\n%s"
	    "[admin]\nlisten = 127.0.0.1:0\n", from, server);
	return (hbd_start(conf));
}

/*
 * Writes a v2 header to buf (V2_MAX bytes): command cmd, family fam with
 * the source src:sport (the destination is the loopback address of that
 * family, port 7000), then a NOOP TLV taking tlv bytes (0: none, else at
 * least 3). Returns its length.
 */
static size_t
v2(unsigned char *buf, int cmd, int fam, const char *src, int sport,
    size_t tlv)
{
	static const unsigned char sig[12] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a
	};
	size_t		 alen = 0, n = V2_HDRLEN;
	uint16_t	 port;
	int		 af = AF_UNSPEC;

	if (fam == V2_TCP4) {
		af = AF_INET;
		alen = 4;
	} else if (fam == V2_TCP6) {
		af = AF_INET6;
		alen = 16;
	}
	memcpy(buf, sig, sizeof(sig));
	buf[12] = 0x20 | cmd;
	buf[13] = fam;
	if (alen > 0) {
		ck_assert_int_eq(inet_pton(af, src, buf + n), 1);
		ck_assert_int_eq(inet_pton(af, af == AF_INET ? "127.0.0.1" :
		    "::1", buf + n + alen), 1);
		port = htons(sport);
		memcpy(buf + n + 2 * alen, &port, 2);
		port = htons(7000);
		memcpy(buf + n + 2 * alen + 2, &port, 2);
		n += 2 * alen + 4;
	}
	if (tlv > 0) {
		ck_assert(tlv >= 3 && n + tlv <= V2_MAX);
		memset(buf + n, 0, tlv);
		buf[n] = V2_NOOP;
		buf[n + 1] = (tlv - 3) >> 8;
		buf[n + 2] = (tlv - 3) & 0xff;
		n += tlv;
	}
	buf[14] = (n - V2_HDRLEN) >> 8;
	buf[15] = (n - V2_HDRLEN) & 0xff;
	return (n);
}

/* A connection from 127.0.0.1 that starts with the len bytes of hdr. */
static struct hbc *
proxied(struct hbd *d, const void *hdr, size_t len)
{
	struct hbc	*c;

	c = hbc_connect(d->port);
	hbc_sendn(c, hdr, len);
	return (c);
}

/* c is a client: PING gets PONG. */
static void
ping(struct hbc *c)
{
	ck_assert_str_eq(hbc_cmd(c, "PING", T), "PONG");
}

/*
 * LIST shows unnamed clients #1, #2, ... with the addresses in addr[]
 * (NULL-terminated), in that order, and no other.
 */
static void
expect_addrs(struct hbd *d, const char *const addr[])
{
	char		 prefix[8][128];
	const char	*want[9];
	int		 i;

	for (i = 0; addr[i] != NULL; i++) {
		ck_assert_int_lt(i, 8);
		snprintf(prefix[i], sizeof(prefix[i]), "CLIENT #%d name=- "
		    "addr=%s age=", i + 1, addr[i]);
		want[i] = prefix[i];
	}
	want[i] = NULL;
	hbd_expect_list(d, want);
}

/*
 * The daemon closes c without a word and logs it as a reject for the
 * address addr (NULL: c's own, 127.0.0.1:<its port>) with reason proxy.
 */
static void
expect_quiet_close(struct hbd *d, struct hbc *c, const char *addr)
{
	expect_quiet_close_in(d, c, addr, T);
}

/* As expect_quiet_close(), waiting up to ms for the close. */
static void
expect_quiet_close_in(struct hbd *d, struct hbc *c, const char *addr,
    int ms)
{
	char	 want[128];

	if (addr == NULL)
		snprintf(want, sizeof(want), "reject addr=127.0.0.1:%d "
		    "reason=proxy", hbc_local_port(c));
	else
		snprintf(want, sizeof(want), "reject addr=%s reason=proxy",
		    addr);
	hbc_expect_closed(c, ms);
	hbc_close(c);
	ck_assert_str_eq(hbd_expect_log(d, "reject ", ms), want);
}

/* STATS: proxy_failures and rejected as given, no handshake failures. */
static void
expect_counts(struct hbd *d, long long failures, long long rejected)
{
	struct hbc	*a;

	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "proxy_failures"), failures);
	ck_assert_int_eq(hbc_stat(a, "rejected"), rejected);
	ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 0);
	hbc_close(a);
}

/* A v1 header names the client's real address, for TCP4 and TCP6. */
START_TEST(test_proxy_v1)
{
	static const char *const addrs[] = {
		"192.0.2.7:53311", "[2001:db8::7]:53312", NULL
	};
	struct hbd	*d;
	struct hbc	*c4, *c6;

	d = start("127.0.0.0/8", "");
	c4 = proxied(d, V1_REAL, strlen(V1_REAL));
	ping(c4);
	ck_assert_str_eq(hbd_expect_log(d, "connect #1", T),
	    "connect #1 addr=192.0.2.7:53311 clients=1");
	c6 = hbc_connect(d->port);
	hbc_send(c6, "PROXY TCP6 2001:db8::7 ::1 53312 7000\r\n");
	ping(c6);
	ck_assert_str_eq(hbd_expect_log(d, "connect #2", T),
	    "connect #2 addr=[2001:db8::7]:53312 clients=2");
	expect_addrs(d, addrs);
	hbc_send(c4, "HELLO dev\n");
	hbc_expect(c4, "OK #1", T);
	hbc_send(c4, "QUIT\n");
	hbc_expect(c4, "BYE quit", T);
	hb_assert_match(hbd_expect_log(d, "disconnect #1", T),
	    "^disconnect #1 addr=192\\.0\\.2\\.7:53311 name=dev reason=quit ");
	expect_counts(d, 0, 0);
	hbd_finish(d, c4, c6, NULL);
}
END_TEST

/* A v2 header does the same for INET and INET6, TLVs or not. */
START_TEST(test_proxy_v2)
{
	static const char *const addrs[] = {
		"192.0.2.7:53311", "[2001:db8::7]:53312", "192.0.2.8:1",
		NULL
	};
	unsigned char	 hdr[V2_MAX];
	struct hbd	*d;
	struct hbc	*c[3];

	d = start("127.0.0.0/8", "");
	c[0] = proxied(d, hdr, v2(hdr, V2_PROXY, V2_TCP4, "192.0.2.7", 53311,
	    0));
	ping(c[0]);
	c[1] = proxied(d, hdr, v2(hdr, V2_PROXY, V2_TCP6, "2001:db8::7",
	    53312, 0));
	ping(c[1]);
	c[2] = proxied(d, hdr, v2(hdr, V2_PROXY, V2_TCP4, "192.0.2.8", 1,
	    40));
	ping(c[2]);
	expect_addrs(d, addrs);
	expect_counts(d, 0, 0);
	hbd_finish(d, c[0], c[1], c[2], NULL);
}
END_TEST

/*
 * v1 UNKNOWN (with or without addresses after it), v2 LOCAL (with or
 * without an address block) and v2 PROXY of no family keep the socket's
 * own address.
 */
START_TEST(test_proxy_local)
{
	static const char unknown[] = "PROXY UNKNOWN\r\n";
	static const char unknown_addrs[] =
	    "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
	unsigned char	 hdr[V2_MAX];
	char		 own[5][32];
	const char	*addrs[6];
	struct hbd	*d;
	struct hbc	*c[5];
	int		 i;

	d = start("127.0.0.0/8", "");
	c[0] = proxied(d, unknown, sizeof(unknown) - 1);
	c[1] = proxied(d, unknown_addrs, sizeof(unknown_addrs) - 1);
	c[2] = proxied(d, hdr, v2(hdr, V2_LOCAL, V2_UNSPEC, NULL, 0, 0));
	c[3] = proxied(d, hdr, v2(hdr, V2_LOCAL, V2_TCP4, "192.0.2.7", 53311,
	    0));
	c[4] = proxied(d, hdr, v2(hdr, V2_PROXY, V2_UNSPEC, NULL, 0, 0));
	for (i = 0; i < 5; i++) {
		ping(c[i]);
		snprintf(own[i], sizeof(own[i]), "127.0.0.1:%d",
		    hbc_local_port(c[i]));
		addrs[i] = own[i];
	}
	addrs[5] = NULL;
	expect_addrs(d, addrs);
	expect_counts(d, 0, 0);
	hbd_finish(d, c[0], c[1], c[2], c[3], c[4], NULL);
}
END_TEST

/*
 * Writes the len bytes of p in pieces cut at the offsets cut[] (rising,
 * ended by 0), pausing after each piece while nothing comes back.
 */
static void
send_pieces(struct hbc *c, const void *p, size_t len, const size_t cut[])
{
	size_t	 off = 0;
	int	 i;

	for (i = 0; cut[i] != 0; i++) {
		hbc_sendn(c, (const char *)p + off, cut[i] - off);
		hbc_expect_silence(c, QUIET);
		off = cut[i];
	}
	hbc_sendn(c, (const char *)p + off, len - off);
}

/* A header split over several writes with pauses is waited for. */
START_TEST(test_proxy_split)
{
	static const char *const addrs[] = {
		"192.0.2.7:53311", "[2001:db8::7]:53312", NULL
	};
	static const size_t v1_cut[] = { 1, 6, 20, 42, 0 };
	static const size_t v2_cut[] = { 3, 12, 14, 15, 30, 0 };
	unsigned char	 hdr[V2_MAX];
	struct hbd	*d;
	struct hbc	*c1, *c2;
	size_t		 n;

	d = start("127.0.0.0/8", "");
	c1 = hbc_connect(d->port);
	send_pieces(c1, V1_REAL, strlen(V1_REAL), v1_cut);
	ping(c1);
	c2 = hbc_connect(d->port);
	n = v2(hdr, V2_PROXY, V2_TCP6, "2001:db8::7", 53312, 8);
	send_pieces(c2, hdr, n, v2_cut);
	ping(c2);
	expect_addrs(d, addrs);
	hbd_finish(d, c1, c2, NULL);
}
END_TEST

/*
 * The header and the lines after it in one write: the lines are the
 * client's, none lost to the header.
 */
START_TEST(test_proxy_one_write)
{
	static const char *const addrs[] = {
		"192.0.2.7:53311", "192.0.2.9:2", "192.0.2.10:3", NULL
	};
	unsigned char	 buf[V2_MAX + 32];
	struct hbd	*d;
	struct hbc	*c[3];
	size_t		 n;

	d = start("127.0.0.0/8 ::1/128", "");
	c[0] = hbc_connect(d->port);
	hbc_send(c[0], V1_REAL "PING a\nPING b\nPI");
	hbc_expect(c[0], "PONG a", T);
	hbc_expect(c[0], "PONG b", T);
	hbc_send(c[0], "NG c\n");
	hbc_expect(c[0], "PONG c", T);
	n = v2(buf, V2_PROXY, V2_TCP4, "192.0.2.9", 2, 0);
	memcpy(buf + n, "PING x\n", 7);
	c[1] = proxied(d, buf, n + 7);
	hbc_expect(c[1], "PONG x", T);
	/* An IPv4 client behind a proxy that reaches us over IPv6. */
	c[2] = hbc_connect6(d->port6);
	hbc_send(c[2], "PROXY TCP4 192.0.2.10 127.0.0.1 3 7000\r\nPING\n");
	hbc_expect(c[2], "PONG", T);
	expect_addrs(d, addrs);
	hbd_finish(d, c[0], c[1], c[2], NULL);
}
END_TEST

/*
 * max_clients_per_ip counts the address in the header: every connection
 * comes from 127.0.0.1, yet only the second one from 192.0.2.7 is over
 * the limit, and it gets its BYE.
 */
START_TEST(test_proxy_per_ip)
{
	static const char *const addrs[] = {
		"192.0.2.7:1000", "192.0.2.8:1000", NULL
	};
	static const char first[] =
	    "PROXY TCP4 192.0.2.7 127.0.0.1 1000 7000\r\n";
	static const char again[] =
	    "PROXY TCP4 192.0.2.7 127.0.0.1 1001 7000\r\n";
	static const char other[] =
	    "PROXY TCP4 192.0.2.8 127.0.0.1 1000 7000\r\n";
	struct hbd	*d;
	struct hbc	*a, *b, *c;

	d = start("127.0.0.0/8", "max_clients_per_ip = 1\n");
	a = proxied(d, first, sizeof(first) - 1);
	ping(a);
	ck_assert_str_eq(hbd_expect_log(d, "connect #", T),
	    "connect #1 addr=192.0.2.7:1000 clients=1");
	b = proxied(d, again, sizeof(again) - 1);
	hbc_expect(b, "BYE per-ip", T);
	hbc_expect_closed(b, T);
	hbc_close(b);
	ck_assert_str_eq(hbd_expect_log(d, "reject ", T),
	    "reject addr=192.0.2.7:1001 reason=per-ip");
	c = proxied(d, other, sizeof(other) - 1);
	ping(c);
	ck_assert_str_eq(hbd_expect_log(d, "connect #", T),
	    "connect #2 addr=192.0.2.8:1000 clients=2");
	expect_addrs(d, addrs);
	expect_counts(d, 0, 1);
	hbd_finish(d, a, c, NULL);
}
END_TEST

/*
 * A connection still owing its header counts against max_clients: while
 * one waits, the next is refused as full, under the socket's address
 * since its header is not read; once the first is a client, so is the
 * next one.
 */
START_TEST(test_proxy_full)
{
	struct hbd	*d;
	struct hbc	*pend, *c;
	char		 want[64];

	d = start("127.0.0.0/8", "max_clients = 1\n");
	pend = hbc_connect(d->port);
	hbc_send(pend, "PROXY TCP4 ");
	c = proxied(d, V1_REAL, strlen(V1_REAL));
	snprintf(want, sizeof(want), "reject addr=127.0.0.1:%d reason=full",
	    hbc_local_port(c));
	/* The unread header is read away, so the BYE is not reset. */
	hbc_expect(c, "BYE full", T);
	hbc_expect_closed(c, T);
	hbc_close(c);
	ck_assert_str_eq(hbd_expect_log(d, "reject ", T), want);
	hbc_send(pend, "192.0.2.7 127.0.0.1 53311 7000\r\n");
	ping(pend);
	ck_assert_str_eq(hbd_expect_log(d, "connect #", T),
	    "connect #1 addr=192.0.2.7:53311 clients=1");
	expect_counts(d, 0, 1);
	hbd_finish(d, pend, NULL);
}
END_TEST

/* "@ip:port" targets name the header's address, not the socket's. */
START_TEST(test_proxy_targets)
{
	struct hbd	*d;
	struct hbc	*c, *a;
	char		 cmd[64];

	d = start("127.0.0.0/8", "");
	c = proxied(d, V1_REAL, strlen(V1_REAL));
	ping(c);
	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "SEND @192.0.2.7:53311 hi there", T),
	    "OK 1");
	hbc_expect(c, "hi there", T);
	snprintf(cmd, sizeof(cmd), "SEND @127.0.0.1:%d hi", hbc_local_port(c));
	ck_assert_str_eq(hbc_cmd(a, cmd, T), "ERR notfound no such client");
	ck_assert_str_eq(hbc_cmd(a, "KICK @192.0.2.7:53311", T), "OK");
	hbc_expect(c, "BYE kicked", T);
	hbc_expect_closed(c, T);
	hb_assert_match(hbd_expect_log(d, "disconnect #1", T),
	    "^disconnect #1 addr=192\\.0\\.2\\.7:53311 name=- reason=kicked ");
	hbd_finish(d, c, a, NULL);
}
END_TEST

#define SIG	"\r\n\r\n\0\r\nQUIT\n"
#define BLOCK4	"\xc0\x00\x02\x07\x7f\x00\x00\x01\xd0\x3f\x1b\x58"
#define LONG50	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Starts that no PROXY header can continue, and what each one breaks. */
static const struct {
	const char	*bytes;
	size_t		 len;
} bad[] = {
#define BAD(s)	{ s, sizeof(s) - 1 }
	BAD("PING\n"),					/* no header */
	BAD("\r\nPING\n"),
	BAD("GET / HTTP/1.1\r\n"),
	BAD("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),	/* TLS */
	BAD("proxy TCP4 192.0.2.7 127.0.0.1 53311 7000\r\n"),
	BAD("PROXY  TCP4 192.0.2.7 127.0.0.1 53311 7000\r\n"),
	BAD("PROXY TCP5 192.0.2.7 127.0.0.1 53311 7000\r\n"),
	BAD("PROXY TCP4 192.0.2.256 127.0.0.1 53311 7000\r\n"),
	BAD("PROXY TCP4 2001:db8::7 ::1 53311 7000\r\n"),
	BAD("PROXY TCP4 192.0.2.7 127.0.0.1 53311 70000\r\n"),
	BAD("PROXY TCP4 192.0.2.7 127.0.0.1 053311 7000\r\n"),
	BAD("PROXY TCP4 192.0.2.7 127.0.0.1 53311\r\n"),
	BAD("PROXY TCP4 192.0.2.7 127.0.0.1 53311 7000 1\r\n"),
	BAD("PROXY TCP4 192.0.2.7 127.0.0.1 53311 7000\n"),
	BAD("PROXY TCP4 192.0.2.7 127.0.0.1 53311 7000\rPING\n"),
	BAD("PROXY UNKNOWN " LONG50 LONG50),		/* no CRLF in 107 */
	BAD(SIG "\x11\x11\x00\x0c" BLOCK4),		/* version 1 */
	BAD(SIG "\x2f\x11\x00\x0c" BLOCK4),		/* command 15 */
	BAD(SIG "\x21\x12\x00\x0c" BLOCK4),		/* UDP */
	BAD(SIG "\x21\x13\x00\x0c" BLOCK4),		/* no such family */
	BAD(SIG "\x21\x11\x00\x04" "\xc0\x00\x02\x07"),	/* short block */
	BAD(SIG "\x21\x11\x00\x0f" BLOCK4 "\x04\x00\x09"), /* TLV overruns */
	BAD(SIG "\x21\x11\x08\x11"),			/* over 2 KiB */
#undef BAD
};

/*
 * A missing or malformed header closes the connection without a word as
 * soon as its bytes show it, long before hello_timeout; each is logged
 * and streamed as a reject for the socket's address, and counted in
 * proxy_failures, not in rejected.
 */
START_TEST(test_proxy_bad)
{
	struct hbd	*d;
	struct hbc	*c, *w;
	const char	*line;
	char		 re[128];
	size_t		 i;

	d = start("127.0.0.0/8", "");
	w = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(w, "WATCH", T), "OK seq=0");
	for (i = 0; i < nitems(bad); i++) {
		c = proxied(d, bad[i].bytes, bad[i].len);
		snprintf(re, sizeof(re), "^EVENT %zu reject "
		    "addr=127\\.0\\.0\\.1:%d reason=proxy$", i + 1,
		    hbc_local_port(c));
		expect_quiet_close(d, c, NULL);
		line = hbc_readline(w, T);
		ck_assert_msg(line != NULL, "bad[%zu]: no reject event", i);
		hb_assert_match(line, re);
	}
	expect_counts(d, nitems(bad), 0);
	hbd_finish(d, w, NULL);
}
END_TEST

/*
 * Nothing, or only part of a header, within hello_timeout: the connection
 * is closed at the deadline, no sooner, without a word. A header in time
 * makes a client, which then keeps heartbeat_timeout alone.
 */
START_TEST(test_proxy_late)
{
	struct hbd	*d;
	struct hbc	*c, *part, *ok;
	long long	 t0, waited;
	char		 server[96];
	int		 hello_ms;

	hello_ms = HELLO_MS * hb_slow_factor();
	/* ok, a client all along, must outlive the others' deadline. */
	snprintf(server, sizeof(server), "hello_timeout = %g\n"
	    "heartbeat_timeout = 600\n", hello_ms / 1000.0);
	d = start("127.0.0.0/8", server);
	t0 = hb_now_ms();
	c = hbc_connect(d->port);
	part = proxied(d, "PROXY TCP4 192.0.2.7", 20);
	ok = proxied(d, V1_REAL, strlen(V1_REAL));
	hbc_expect_silence(c, hello_ms / 2);
	/* hello_timeout scales with the build's slowness; so does the wait. */
	expect_quiet_close_in(d, c, NULL, T + hello_ms);
	waited = hb_now_ms() - t0;
	ck_assert_msg(waited >= hello_ms, "closed after %lld ms, before the "
	    "hello_timeout of %d ms", waited, hello_ms);
	expect_quiet_close_in(d, part, NULL, T + hello_ms);
	hbc_expect_silence(ok, QUIET);
	ping(ok);
	expect_counts(d, 2, 0);
	hbd_finish(d, ok, NULL);
}
END_TEST

/*
 * From outside proxy_from, a connection is a plain client from the
 * socket's address, and a PROXY line is just a data line; from inside,
 * the same connection without a header is refused.
 */
START_TEST(test_proxy_outside)
{
	struct hbd	*d;
	struct hbc	*c, *in, *w;
	const char	*addrs[2];
	char		 own[32], want[128];

	d = start("127.0.0.1/32", "");
	w = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(w, "WATCH", T), "OK seq=0");
	c = hbc_connect_from("127.0.0.2", d->port);
	hbc_send(c, V1_REAL);
	ping(c);
	snprintf(own, sizeof(own), "127.0.0.2:%d", hbc_local_port(c));
	snprintf(want, sizeof(want), "EVENT 1 connect #1 addr=%s clients=1",
	    own);
	hbc_expect(w, want, T);
	hbc_expect(w, "EVENT 2 data #1 " PROXY_LINE, T);
	addrs[0] = own;
	addrs[1] = NULL;
	expect_addrs(d, addrs);
	in = hbc_connect(d->port);
	hbc_send(in, "PING\n");
	expect_quiet_close(d, in, NULL);
	hbc_expect_prefix(w, "EVENT 3 reject ", T);
	in = hbc_connect_from("127.0.0.1", d->port);
	hbc_send(in, V1_REAL "PING\n");
	hbc_expect(in, "PONG", T);
	hbc_expect(w, "EVENT 4 connect #2 addr=192.0.2.7:53311 clients=2", T);
	hbc_send(in, V1_REAL);
	hbc_expect(w, "EVENT 5 data #2 " PROXY_LINE, T);
	expect_counts(d, 1, 0);
	hbd_finish(d, c, in, w, NULL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	s = suite_create("proxy_conn");
	HB_TCASE(s, "v1", test_proxy_v1, 1);
	HB_TCASE(s, "v2", test_proxy_v2, 1);
	HB_TCASE(s, "local", test_proxy_local, 1);
	HB_TCASE(s, "split", test_proxy_split, 1);
	HB_TCASE(s, "one_write", test_proxy_one_write, 1);
	HB_TCASE(s, "per_ip", test_proxy_per_ip, 1);
	HB_TCASE(s, "full", test_proxy_full, 1);
	HB_TCASE(s, "targets", test_proxy_targets, 1);
	HB_TCASE(s, "bad", test_proxy_bad, 1);
	HB_TCASE(s, "late", test_proxy_late, 1);
	HB_TCASE(s, "outside", test_proxy_outside, 1);
	return (s);
}
