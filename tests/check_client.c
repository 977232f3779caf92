/*
 * The client protocol (SPEC §3) and its log lines (SPEC §5), against the
 * real binary over loopback sockets, asserting the exact bytes.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define T		1000	/* ms to wait for an answer that is due */
#define QUIET		100	/* ms of silence that show nothing is sent */
#define TIMEOUT_CONF	"heartbeat_timeout = 0.2\n"
#define TIMEOUT_MS	200
#define LATE_MS		100	/* how late SPEC allows a drop to be */
#define STORM		1000

static struct hbd *start(const char *);
static void	 stop(struct hbd *);
static struct hbc *named(struct hbd *, const char *, const char *);
static void	 ping(struct hbc *);
static void	 expect_bye(struct hbc *, const char *);
static void	 expect_log_exact(struct hbd *, const char *, const char *);

/* Starts a daemon on 127.0.0.1:0 with the extra [server] keys. */
static struct hbd *
start(const char *server)
{
	char	 conf[1024];

	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:0\n%s"
	    "[admin]\nlisten = 127.0.0.1:0\n", server);
	return (hbd_start(conf));
}

static void
stop(struct hbd *d)
{
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}

/* A new client that sends "HELLO name" and gets the answer want. */
static struct hbc *
named(struct hbd *d, const char *name, const char *want)
{
	struct hbc	*c;
	char		 line[256];

	c = hbc_connect(d->port);
	snprintf(line, sizeof(line), "HELLO %s", name);
	hbc_send(c, line);
	hbc_send(c, "\n");
	hbc_expect(c, want, T);
	return (c);
}

/* c is served: PING gets PONG. */
static void
ping(struct hbc *c)
{
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", T);
}

/* "BYE reason", then EOF, then c is closed. */
static void
expect_bye(struct hbc *c, const char *reason)
{
	char	 want[64];

	snprintf(want, sizeof(want), "BYE %s", reason);
	hbc_expect(c, want, T);
	hbc_expect_closed(c, T);
	hbc_close(c);
}

/* The next log line that contains substr is exactly want. */
static void
expect_log_exact(struct hbd *d, const char *substr, const char *want)
{
	ck_assert_str_eq(hbd_expect_log(d, substr, T), want);
}

START_TEST(test_client_ping)
{
	struct hbd	*d;
	struct hbc	*c;

	d = start("");
	c = hbc_connect(d->port);
	ping(c);
	hbc_send(c, "PING hello world\n");
	hbc_expect(c, "PONG hello world", T);
	hbc_send(c, "ping x\n");
	hbc_expect(c, "PONG x", T);
	hbc_send(c, "PiNg\r\n");
	hbc_expect(c, "PONG", T);
	hbc_send(c, "PING a b\r\n");
	hbc_expect(c, "PONG a b", T);
	/* Pipelined, and a line split across writes. */
	hbc_send(c, "PING 1\nPING 2\nPI");
	hbc_expect(c, "PONG 1", T);
	hbc_expect(c, "PONG 2", T);
	hbc_send(c, "NG 3\n");
	hbc_expect(c, "PONG 3", T);
	hbc_expect_silence(c, QUIET);
	hbc_close(c);
	stop(d);
}
END_TEST

/* Ids follow connection order, not HELLO order, and are never reused. */
START_TEST(test_client_hello_ids)
{
	struct hbd	*d;
	struct hbc	*c[3], *e;
	int		 i;

	d = start("");
	for (i = 0; i < 3; i++)
		c[i] = hbc_connect(d->port);
	hbc_send(c[2], "HELLO c\n");
	hbc_expect(c[2], "OK #3", T);
	hbc_send(c[0], "hello a\n");
	hbc_expect(c[0], "OK #1", T);
	hbc_send(c[1], "HeLLo b\n");
	hbc_expect(c[1], "OK #2", T);
	expect_log_exact(d, "hello #3", "hello #3 name=c");
	hbc_close(c[0]);
	hbd_expect_disconnect(d, 1, "a", "closed");
	e = named(d, "a", "OK #4");
	hbc_close(e);
	hbc_close(c[1]);
	hbc_close(c[2]);
	stop(d);
}
END_TEST

/* A second HELLO renames, and frees the old name. */
START_TEST(test_client_rename)
{
	static const char *const list[] = {
		"CLIENT #1 name=b addr=", "CLIENT #2 name=a addr=", NULL
	};
	struct hbd	*d;
	struct hbc	*a, *b;

	d = start("duplicate_name = reject\n");
	a = named(d, "a", "OK #1");
	hbc_send(a, "HELLO b\n");
	hbc_expect(a, "OK #1", T);
	expect_log_exact(d, "hello #1 name=b", "hello #1 name=b");
	b = named(d, "a", "OK #2");
	hbc_send(b, "HELLO b\n");
	hbc_expect(b, "ERR taken name in use", T);
	hbd_expect_list(d, list);
	hbc_close(a);
	hbc_close(b);
	stop(d);
}
END_TEST

#define NAME64 \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

static const struct {
	const char	*line;
	const char	*answer;
} badnames[] = {
	{ "HELLO", "ERR badname missing name" },
	{ "hello", "ERR badname missing name" },
	{ "HELLO a b", "ERR syntax option is not key=value" },
	{ "HELLO " NAME64 "x", "ERR badname longer than 64 bytes" },
	{ "HELLO -a", "ERR badname must start with a letter or digit" },
	{ "HELLO _a", "ERR badname must start with a letter or digit" },
	{ "HELLO .a", "ERR badname must start with a letter or digit" },
	{ "HELLO :a", "ERR badname must start with a letter or digit" },
	{ "HELLO @a", "ERR badname must start with a letter or digit" },
	{ "HELLO a/b", "ERR badname invalid character" },
	{ "HELLO a!b", "ERR badname invalid character" },
	{ "HELLO a\"b", "ERR badname invalid character" },
	{ "HELLO caf\xc3\xa9", "ERR badname invalid character" },
	{ "HELLO a\x01", "ERR badname invalid character" },
};

/* Each bad name is refused and the connection keeps its name. */
START_TEST(test_client_badname)
{
	static const char *const list[] = {
		"CLIENT #1 name=good addr=", NULL
	};
	struct hbd	*d;
	struct hbc	*c;

	d = start("");
	c = named(d, "good", "OK #1");
	hbc_send(c, badnames[_i].line);
	hbc_send(c, "\n");
	hbc_expect(c, badnames[_i].answer, T);
	ping(c);
	hbd_expect_list(d, list);
	ck_assert_int_eq(hbd_log_count(d, "hello #"), 1);
	hbc_close(c);
	stop(d);
}
END_TEST

/* Every allowed character, and the longest name. */
START_TEST(test_client_goodname)
{
	struct hbd	*d;
	struct hbc	*c;

	d = start("");
	c = named(d, NAME64, "OK #1");
	hbc_send(c, "HELLO 9a.b_c:d@e-Z\n");
	hbc_expect(c, "OK #1", T);
	expect_log_exact(d, "hello #1", "hello #1 name=" NAME64);
	expect_log_exact(d, "hello #1", "hello #1 name=9a.b_c:d@e-Z");
	hbc_close(c);
	stop(d);
}
END_TEST

START_TEST(test_client_replace)
{
	struct hbd	*d;
	struct hbc	*a, *b;

	d = start("duplicate_name = replace\n");
	a = named(d, "x", "OK #1");
	b = named(d, "x", "OK #2");
	expect_bye(a, "replaced");
	hbd_expect_disconnect(d, 1, "x", "replaced");
	ck_assert_int_eq(hbd_wait_count(d, "hello #2 name=x", 1, T), 1);
	ping(b);
	hbc_close(b);
	stop(d);
}
END_TEST

START_TEST(test_client_reject)
{
	static const char *const list[] = {
		"CLIENT #1 name=x addr=", "CLIENT #2 name=y addr=",
		"CLIENT #3 name=- addr=", NULL
	};
	struct hbd	*d;
	struct hbc	*a, *b, *c;

	d = start("duplicate_name = reject\n");
	a = named(d, "x", "OK #1");
	b = named(d, "y", "OK #2");
	hbc_send(b, "HELLO x\n");
	hbc_expect(b, "ERR taken name in use", T);
	c = named(d, "x", "ERR taken name in use");
	hbd_expect_list(d, list);
	ping(a);
	ck_assert_int_eq(hbd_log_count(d, "disconnect"), 0);
	hbc_close(a);
	hbc_close(b);
	hbc_close(c);
	stop(d);
}
END_TEST

/* QUIT, whatever its case and arguments. */
START_TEST(test_client_quit)
{
	static const char *const quits[] = { "QUIT\n", "quit now\r\n" };
	struct hbd	*d;
	struct hbc	*c;

	d = start("");
	c = hbc_connect(d->port);
	hbc_send(c, quits[_i]);
	expect_bye(c, "quit");
	hbd_expect_log(d, "reason=quit", T);
	stop(d);
}
END_TEST

/* Data lines get no answer, but are counted. */
START_TEST(test_client_data)
{
	struct hbd	*d;
	struct hbc	*c, *a;

	d = start("");
	c = hbc_connect(d->port);
	hbc_send(c, "hi there\n\n\r\nPINGX\nHELLOx y\nQUITTER\n");
	hbc_send(c, "PING end\n");
	hbc_expect(c, "PONG end", T);
	a = hbc_admin(d);
	hbc_send(a, "STATS\n");
	ck_assert_str_eq(hbc_expect_prefix(a, "STAT pings ", T),
	    "STAT pings 1");
	ck_assert_str_eq(hbc_expect_prefix(a, "STAT data_lines ", T),
	    "STAT data_lines 6");
	hbc_close(a);
	hbc_close(c);
	stop(d);
}
END_TEST

/* A data line a lock-step client sends, and the line itself. */
struct lockstep {
	const char	*sent;
	size_t		 len;
	const char	*line;
	size_t		 linelen;
};

#define LS(sent, line)	{ sent, sizeof(sent) - 1, line, sizeof(line) - 1 }
static const struct lockstep locksteps[] = {
	LS("temperature=21.5\n", "temperature=21.5"),
	LS("\n", ""),
	LS("crlf\r\n", "crlf"),
	LS("tab\tand\rcr inside\n", "tab\tand\rcr inside"),
	LS("nul\0byte \xff\xfe\n", "nul\0byte \xff\xfe"),
	LS("PINGX\n", "PINGX"),
	LS("QUITTER now\n", "QUITTER now"),
	LS("  HELLO sensor-7\n", "  HELLO sensor-7"),
};
static const char *const replies[] = { "none", "ok", "echo" };

/*
 * A client written for the textbook echo server: it sends a line and
 * waits for the answer before the next. With data_reply = ok (1) each
 * data line is answered "OK", with echo (2) the line itself, byte for
 * byte; with none (0) nothing, so the next line it gets after a PING is
 * the PONG. The bytes out count every answer.
 */
START_TEST(test_client_data_reply)
{
	const struct lockstep	*ls;
	struct hbd		*d;
	struct hbc		*c, *a;
	const char		*line;
	char			 conf[64];
	long long		 out = 0;
	size_t			 i;
	int			 round;

	snprintf(conf, sizeof(conf), "data_reply = %s\n", replies[_i]);
	d = start(conf);
	c = hbc_connect(d->port);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < nitems(locksteps); i++) {
			ls = &locksteps[i];
			hbc_sendn(c, ls->sent, ls->len);
			if (_i == 0)
				hbc_send(c, "PING\n");
			line = hbc_readline(c, T);
			ck_assert_msg(line != NULL, "no answer to line %zu", i);
			if (_i == 0)
				ck_assert_str_eq(line, "PONG");
			else if (_i == 1)
				ck_assert_str_eq(line, "OK");
			else
				ck_assert_msg(c->taken - 1 == ls->linelen &&
				    memcmp(line, ls->line, ls->linelen) == 0,
				    "line %zu: echo of %zu bytes, not %zu", i,
				    c->taken - 1, ls->linelen);
			out += c->taken;
		}
	}
	hbc_expect_silence(c, QUIET);
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "bytes_out"), out);
	ck_assert_int_eq(hbc_stat(a, "data_lines"), 2 * nitems(locksteps));
	hbc_close(a);
	hbc_close(c);
	stop(d);
}
END_TEST

/* A line of max_line bytes is echoed whole. */
START_TEST(test_client_data_reply_long)
{
	struct hbd	*d;
	struct hbc	*c;
	const char	*line;
	char		 text[1025];

	d = start("data_reply = echo\nmax_line = 1024\n");
	c = hbc_connect(d->port);
	memset(text, 'e', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	hbc_send(c, text);
	hbc_send(c, "\n");
	line = hbc_readline(c, T);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, text);
	hbc_close(c);
	stop(d);
}
END_TEST

/*
 * Silent for heartbeat_timeout: dropped no sooner, and at most 100 ms
 * later, counted from the last byte (0: from the connect; 1: from a
 * PING).
 */
START_TEST(test_client_timeout)
{
	struct hbd	*d;
	struct hbc	*c;
	long long	 before, after, got;

	d = start(TIMEOUT_CONF);
	before = hb_now_ms();
	c = hbc_connect(d->port);
	if (_i == 1) {
		before = hb_now_ms();
		hbc_send(c, "PING\n");
	}
	after = hb_now_ms();
	if (_i == 1)
		hbc_expect(c, "PONG", T);
	hbc_expect(c, "BYE timeout", T);
	got = hb_now_ms();
	hbc_expect_closed(c, T);
	ck_assert_msg(got - before >= TIMEOUT_MS, "dropped after %lld ms, "
	    "before the %d ms timeout", got - before, TIMEOUT_MS);
	ck_assert_msg(got - after <= TIMEOUT_MS + LATE_MS, "dropped after "
	    "%lld ms, more than %d ms late", got - after, LATE_MS);
	hbd_expect_disconnect(d, 1, "-", "timeout");
	hbc_close(c);
	stop(d);
}
END_TEST

/*
 * Kept alive for a second by a byte every 100 ms: whole lines (0) or a
 * PING trickled a byte at a time (1).
 */
START_TEST(test_client_keepalive)
{
	static const char	 trickle[] = "PING abcdefghi";
	struct hbd		*d;
	struct hbc		*c;
	size_t			 i;

	d = start(TIMEOUT_CONF);
	c = hbc_connect(d->port);
	for (i = 0; i < sizeof(trickle) - 1; i++) {
		if (_i == 0)
			hbc_send(c, "\n");
		else
			hbc_sendn(c, trickle + i, 1);
		hbc_expect_silence(c, QUIET);
	}
	hbc_send(c, _i == 0 ? "PING abcdefghi\n" : "\n");
	hbc_expect(c, "PONG abcdefghi", T);
	ck_assert_int_eq(hbd_log_count(d, "disconnect"), 0);
	hbc_close(c);
	stop(d);
}
END_TEST

/*
 * Refused at connect, with the BYE and reject line: over max_clients
 * (0), or over max_clients_per_ip while another address still gets in
 * (1).
 */
START_TEST(test_client_admission)
{
	static const char *const confs[] = {
		"max_clients = 2\n", "max_clients_per_ip = 2\n"
	};
	static const char *const reasons[] = { "full", "per-ip" };
	struct hbd	*d;
	struct hbc	*a, *b, *c;
	char		 want[128];

	d = start(confs[_i]);
	a = hbc_connect(d->port);
	b = hbc_connect(d->port);
	c = hbc_connect(d->port);
	snprintf(want, sizeof(want), "reject addr=127.0.0.1:%d reason=%s",
	    hbc_local_port(c), reasons[_i]);
	expect_bye(c, reasons[_i]);
	expect_log_exact(d, "reject ", want);
	if (_i == 1) {
		c = hbc_connect_from("127.0.0.2", d->port);
		ping(c);
		hbc_close(c);
	}
	hbc_send(a, "QUIT\n");
	expect_bye(a, "quit");
	hbd_expect_log(d, "disconnect #1 ", T);
	c = hbc_connect(d->port);
	ping(c);
	hbc_close(b);
	hbc_close(c);
	stop(d);
}
END_TEST

static const struct {
	const char	*send;
	const char	*then;		/* after a quiet spell, or NULL */
	int		 ok;		/* else toolong */
} lines[] = {
	{ "PING 0123456789a\n", NULL, 1 },	/* max_line bytes */
	{ "PING 0123456789a\r\n", NULL, 1 },
	{ "PING 0123456789a\r", "\n", 1 },	/* room for the \r */
	{ "PING 0123456789ab\n", NULL, 0 },	/* max_line + 1 */
	{ "PING 0123456789ab", "\n", 0 },
	{ "PING 0123456789abc", NULL, 0 },	/* max_line + 2, no \n */
};

START_TEST(test_client_max_line)
{
	struct hbd	*d;
	struct hbc	*c;

	d = start("max_line = 16\n");
	c = hbc_connect(d->port);
	hbc_send(c, lines[_i].send);
	if (lines[_i].then != NULL) {
		hbc_expect_silence(c, QUIET);
		hbc_send(c, lines[_i].then);
	}
	if (lines[_i].ok) {
		hbc_expect(c, "PONG 0123456789a", T);
		hbc_close(c);
	} else {
		hbc_expect(c, "ERR toolong line exceeds 16 bytes", T);
		expect_bye(c, "toolong");
		hbd_expect_disconnect(d, 1, "-", "toolong");
	}
	stop(d);
}
END_TEST

/* A client that never reads is dropped once its queue passes the limit. */
START_TEST(test_client_overflow)
{
	struct hbd	*d;
	struct hbc	*c;
	char		 ping[1006];
	long long	 deadline;
	size_t		 sent, off;
	ssize_t		 n;

	d = start("send_buffer_limit = 1024\n");
	c = hbc_connect(d->port);
	memcpy(ping, "PING ", 5);
	memset(ping + 5, 'x', sizeof(ping) - 6);
	ping[sizeof(ping) - 1] = '\n';
	deadline = hb_now_ms() + 5000;
	/* A send cut short by its timeout goes on mid-line, never anew. */
	for (sent = off = 0; sent < 64 * 1024 * 1024 &&
	    hb_now_ms() < deadline; sent += n) {
		if ((n = hbc_trysend(c, ping + off, sizeof(ping) - off,
		    100)) == -1)
			break;
		off = (off + n) % sizeof(ping);
	}
	ck_assert_msg(errno == EPIPE || errno == ECONNRESET,
	    "still connected after %zu bytes of PING", sent);
	hbd_expect_disconnect(d, 1, "-", "overflow");
	while (hbc_readline(c, T) != NULL)
		;
	ck_assert_msg(c->eof, "no EOF after the overflow");
	hbc_close(c);
	stop(d);
}
END_TEST

/* After a half-close every whole line is answered, the partial dropped. */
START_TEST(test_client_half_close)
{
	struct hbd	*d;
	struct hbc	*c;

	d = start("");
	c = hbc_connect(d->port);
	hbc_send(c, "PING a\nPING b\npartial");
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	hbc_expect(c, "PONG a", T);
	hbc_expect(c, "PONG b", T);
	hbc_expect_closed(c, T);
	hbd_expect_disconnect(d, 1, "-", "closed");
	hbc_close(c);
	stop(d);
}
END_TEST

/* A reset from the client is logged as such. */
START_TEST(test_client_reset)
{
	struct hbd	*d;
	struct hbc	*c;

	d = start("");
	c = hbc_connect(d->port);
	ping(c);
	hbc_reset(c);
	hbd_expect_disconnect(d, 1, "-", "reset");
	stop(d);
}
END_TEST

/* The connect, hello and disconnect lines field by field. */
START_TEST(test_client_log_lines)
{
	struct hbd	*d;
	struct hbc	*a, *b;
	char		 want[256];
	int		 pa, pb;

	d = start("");
	a = hbc_connect(d->port);
	pa = hbc_local_port(a);
	snprintf(want, sizeof(want), "connect #1 addr=127.0.0.1:%d clients=1",
	    pa);
	expect_log_exact(d, "connect #1", want);
	hbc_send(a, "HELLO device\n");
	hbc_expect(a, "OK #1", T);
	expect_log_exact(d, "hello #1", "hello #1 name=device");
	b = hbc_connect(d->port);
	pb = hbc_local_port(b);
	snprintf(want, sizeof(want), "connect #2 addr=127.0.0.1:%d clients=2",
	    pb);
	expect_log_exact(d, "connect #2", want);

	/* in: "HELLO device\n" "QUIT\n"; out: "OK #1\n" "BYE quit\n". */
	hbc_send(a, "QUIT\n");
	expect_bye(a, "quit");
	snprintf(want, sizeof(want), "^disconnect #1 addr=127\\.0\\.0\\.1:%d "
	    "name=device reason=quit age=[0-9]+\\.[0-9] in=18 out=15 "
	    "clients=1$", pa);
	hb_assert_match(hbd_expect_log(d, "disconnect #1", T), want);
	hbc_close(b);
	snprintf(want, sizeof(want), "^disconnect #2 addr=127\\.0\\.0\\.1:%d "
	    "name=- reason=closed age=[0-9]+\\.[0-9] in=0 out=0 clients=0$",
	    pb);
	hb_assert_match(hbd_expect_log(d, "disconnect #2", T), want);
	stop(d);
}
END_TEST

START_TEST(test_client_ipv6)
{
	struct hbd	*d;
	struct hbc	*c;
	char		 want[128];

	d = start("listen = [::1]:0\n");
	ck_assert_msg(d->port6 != 0, "no [::1] listener in the start line");
	c = hbc_connect6(d->port6);
	snprintf(want, sizeof(want), "connect #1 addr=[::1]:%d clients=1",
	    hbc_local_port(c));
	expect_log_exact(d, "connect #1", want);
	hbc_send(c, "PING v6\n");
	hbc_expect(c, "PONG v6", T);
	hbc_close(c);
	c = hbc_connect(d->port);
	hbc_send(c, "PING v4\n");
	hbc_expect(c, "PONG v4", T);
	hbc_close(c);
	stop(d);
}
END_TEST

/* Every byte value, NULs included, is only data: the client stays. */
START_TEST(test_client_garbage)
{
	static const char	 nuls[] = "\0\0\0\n\0PING\n\r\r\r\n";
	struct hbd		*d;
	struct hbc		*c;
	unsigned char		 junk[256];
	size_t			 i;

	d = start("");
	c = hbc_connect(d->port);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 255 - i;
	hbc_sendn(c, junk, sizeof(junk));
	hbc_sendn(c, nuls, sizeof(nuls) - 1);
	hbc_send(c, "PING ok\n");
	hbc_expect(c, "PONG ok", T);
	hbc_close(c);
	stop(d);
}
END_TEST

/* A storm of connections reset at once leaves the daemon serving. */
START_TEST(test_client_reset_storm)
{
	struct hbd	*d;
	struct hbc	*c, *a;
	int		 i, left;

	d = start("");
	for (i = 0; i < STORM; i++)
		hbc_reset(hbc_connect(d->port));
	c = hbc_connect(d->port);
	ping(c);
	a = hbc_admin(d);
	hbc_send(a, "LIST\n");
	hb_assert_match(hbc_expect_prefix(a, "END seq=", T),
	    "^END seq=[0-9]+$");
	hbc_close(a);

	/* Every storm client registered has left again. */
	hbd_wait_count(d, "disconnect #", STORM, 5000);
	left = hbd_log_count(d, "disconnect #");
	ck_assert_int_eq(hbd_log_count(d, "connect #") - left, left + 1);
	hbc_close(c);
	stop(d);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	s = suite_create("client");
	HB_TCASE(s, "ping", test_client_ping, 1);
	HB_TCASE(s, "hello_ids", test_client_hello_ids, 1);
	HB_TCASE(s, "rename", test_client_rename, 1);
	HB_TCASE(s, "badname", test_client_badname, nitems(badnames));
	HB_TCASE(s, "goodname", test_client_goodname, 1);
	HB_TCASE(s, "replace", test_client_replace, 1);
	HB_TCASE(s, "reject", test_client_reject, 1);
	HB_TCASE(s, "quit", test_client_quit, 2);
	HB_TCASE(s, "data", test_client_data, 1);
	HB_TCASE(s, "data_reply", test_client_data_reply, nitems(replies));
	HB_TCASE(s, "data_reply_long", test_client_data_reply_long, 1);
	HB_TCASE(s, "timeout", test_client_timeout, 2);
	HB_TCASE(s, "keepalive", test_client_keepalive, 2);
	HB_TCASE(s, "admission", test_client_admission, 2);
	HB_TCASE(s, "max_line", test_client_max_line, nitems(lines));
	HB_TCASE(s, "overflow", test_client_overflow, 1);
	HB_TCASE(s, "half_close", test_client_half_close, 1);
	HB_TCASE(s, "reset", test_client_reset, 1);
	HB_TCASE(s, "log_lines", test_client_log_lines, 1);
	HB_TCASE(s, "ipv6", test_client_ipv6, 1);
	HB_TCASE(s, "garbage", test_client_garbage, 1);
	HB_TCASE(s, "reset_storm", test_client_reset_storm, 1);
	return (s);
}
