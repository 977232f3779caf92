/*
 * Integration tests for pushes with acknowledgement (SPEC §13), written
 * from the contract: PUSH answered with its id, MSG to the name's client
 * now or at its HELLO, in PUSH order, ACK without a reply, redelivery
 * with the same id by the timer and on the next session, stray ACKs
 * ignored, expiry, both limits, UNPUSH, PUSHES, the events and STATS
 * keys, the syntax errors, ids that survive a restart, with a state file
 * or without, and PUSH answers that keep their place among a pipelined
 * session's other answers.
 *
 * Without a state file ids go on from the clock, so a test takes the
 * first id it is given and names every other relative to it: id0 is
 * one less than that first id, and the n-th push of a test is id0 + n.
 *
 * Clients run with data_reply = echo: a line the daemon takes for data
 * is echoed, so the silence after an ACK shows that ACK is a command.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define QUIET_MS	100	/* ms of silence that show nothing is sent */
#define MAX_TTL		2592000	/* s, the longest ttl a PUSH may ask for */
#define PIPE_PUSHES	200	/* PUSHes each session pipelines at once */
#define PIPE_SESSIONS	2

#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 30\n"					\
	"max_line = 64\n"						\
	"data_reply = echo\n"						\
	"%s"								\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"[push]\n"							\
	"%s"								\
	"[state]\n"							\
	"%s"								\
	"[log]\n"							\
	"syslog = no\n"

/*
 * A line PUSHES should show: id is the n of id0 + n; tries -1 stands for
 * any number.
 */
struct pending {
	unsigned long long	 id;
	int			 ttl;	/* s the push was given */
	int			 tries;
	const char		*msg;
};

static int		 tmo(void);
static struct hbd	*start(const char *, const char *, const char *);
static struct hbc	*watch(struct hbd *);
static void		 expectf(struct hbc *, const char *, ...)
			    __attribute__((__format__(printf, 2, 3)));
static void		 expect_event(struct hbc *, const char *, ...)
			    __attribute__((__format__(printf, 2, 3)));
static void		 expect_pong(struct hbc *);
static unsigned long long read_ok(struct hbc *, const char *);
static unsigned long long push_ok(struct hbc *, const char *, int,
			    const char *);
static void		 expect_push_line(const char *, unsigned long long,
			    const struct pending *);
static void		 expect_pushes(struct hbc *, const char *,
			    unsigned long long, const struct pending *, size_t);
static void		 expect_stats(struct hbc *, long long, long long,
			    long long, long long);
static void		 expect_err(struct hbc *, const char *, const char *);
static void		 pipeline_send(struct hbc *, int);
static void		 pipeline_read(struct hbc *, int, unsigned char *,
			    unsigned long long);

/* ms to wait for any one line, scaled for slow builds. */
static int
tmo(void)
{
	return ((int)(2000 * hb_slow_factor()));
}

/* Starts the daemon with extra [server], [push] and [state] lines. */
static struct hbd *
start(const char *server, const char *push, const char *state)
{
	char	 conf[2 * PATH_MAX];

	snprintf(conf, sizeof(conf), CONF_FMT, server, push, state);
	return (hbd_start(conf));
}

/* An admin session watching the push events only. */
static struct hbc *
watch(struct hbd *d)
{
	struct hbc	*w;

	w = hbc_admin(d);
	hb_assert_match(hbc_cmd(w, "WATCH push delivered acked expired",
	    tmo()), "^OK seq=[0-9]+$");
	return (w);
}

/* Asserts that the next line on c is exactly the one fmt makes. */
static void
expectf(struct hbc *c, const char *fmt, ...)
{
	va_list	 ap;
	char	 want[512];

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	hbc_expect(c, want, tmo());
}

/* Asserts that the next line on w is "EVENT <seq> " and the text made. */
static void
expect_event(struct hbc *w, const char *fmt, ...)
{
	va_list		 ap;
	const char	*line, *p;
	char		 want[256];

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	/* Twice as long: an expiry comes 2 s after its push. */
	line = hbc_readline(w, 2 * tmo());
	ck_assert_msg(line != NULL, "no event \"%s\"", want);
	hb_assert_match(line, "^EVENT [1-9][0-9]* ");
	p = strchr(line + strlen("EVENT "), ' ') + 1;
	ck_assert_msg(strcmp(p, want) == 0, "want event \"%s\", got \"%s\"",
	    want, line);
}

/*
 * PING, and PONG as the very next line: whatever c sent before got no
 * answer, and its connection is still up.
 */
static void
expect_pong(struct hbc *c)
{
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", tmo());
}

/* Asserts that the next line on a is "OK <id>", for cmd; returns the id. */
static unsigned long long
read_ok(struct hbc *a, const char *cmd)
{
	const char	*line;

	line = hbc_readline(a, tmo());
	ck_assert_msg(line != NULL, "%s: no answer", cmd);
	hb_assert_match(line, "^OK [1-9][0-9]*$");
	return (strtoull(line + 3, NULL, 10));
}

/* Sends PUSH name ttl msg on a, asserts "OK <id>" and returns the id. */
static unsigned long long
push_ok(struct hbc *a, const char *name, int ttl, const char *msg)
{
	char	 cmd[256];

	snprintf(cmd, sizeof(cmd), "PUSH %s %d %s\n", name, ttl, msg);
	hbc_send(a, cmd);
	return (read_ok(a, cmd));
}

/*
 * Asserts that line is the PUSHES line of want: its id (id0 + want's),
 * tries and message exact, its age and ttl plain decimals, the ttl left at most
 * the one given, and age and ttl together the ttl given, give or take
 * their rounding.
 */
static void
expect_push_line(const char *line, unsigned long long id0,
    const struct pending *want)
{
	unsigned long long	 id;
	double			 age, ttl;
	int			 tries, off = -1;

	hb_assert_match(line, "^PUSH id=[1-9][0-9]* age=[0-9]+(\\.[0-9]+)? "
	    "ttl=[0-9]+(\\.[0-9]+)? tries=[0-9]+ ");
	ck_assert_int_eq(sscanf(line, "PUSH id=%llu age=%lf ttl=%lf "
	    "tries=%d %n", &id, &age, &ttl, &tries, &off), 4);
	ck_assert_msg(id == id0 + want->id && strcmp(line + off, want->msg) ==
	    0, "want id=%llu and \"%s\": \"%s\"", id0 + want->id, want->msg,
	    line);
	if (want->tries != -1)
		ck_assert_msg(tries == want->tries, "want tries=%d: \"%s\"",
		    want->tries, line);
	ck_assert_msg(ttl <= want->ttl && age + ttl >= want->ttl - 1 &&
	    age + ttl <= want->ttl + 1, "want ttl %d in all: \"%s\"",
	    want->ttl, line);
}

/*
 * Asserts that PUSHES name on a lists exactly the n pushes of want, their
 * ids counted from id0.
 */
static void
expect_pushes(struct hbc *a, const char *name, unsigned long long id0,
    const struct pending *want, size_t n)
{
	const char	*line;
	char		 cmd[96];
	size_t		 i;

	snprintf(cmd, sizeof(cmd), "PUSHES %s", name);
	line = hbc_cmd(a, cmd, tmo());
	for (i = 0; i < n; i++) {
		ck_assert_msg(line != NULL, "%s: no line for id %llu", cmd,
		    id0 + want[i].id);
		expect_push_line(line, id0, &want[i]);
		line = hbc_readline(a, tmo());
	}
	ck_assert_msg(line != NULL && strcmp(line, "END") == 0,
	    "%s: want END, got \"%s\"", cmd, line == NULL ? "(none)" : line);
}

/* Asserts the four push keys of STATS. */
static void
expect_stats(struct hbc *a, long long queued, long long acked,
    long long expired, long long pending)
{
	ck_assert_int_eq(hbc_stat(a, "pushes_queued"), queued);
	ck_assert_int_eq(hbc_stat(a, "pushes_acked"), acked);
	ck_assert_int_eq(hbc_stat(a, "pushes_expired"), expired);
	ck_assert_int_eq(hbc_stat(a, "pushes_pending"), pending);
}

/* Asserts that cmd on a gets "ERR <code> " and a text. */
static void
expect_err(struct hbc *a, const char *cmd, const char *code)
{
	const char	*line;
	char		 want[64];
	size_t		 n;

	n = snprintf(want, sizeof(want), "ERR %s ", code);
	line = hbc_cmd(a, cmd, tmo());
	ck_assert_msg(line != NULL && strncmp(line, want, n) == 0 &&
	    line[n] != '\0', "%s: want \"%s…\", got \"%s\"", cmd, want,
	    line == NULL ? "(none)" : line);
}

/*
 * A push to an online client: OK with its id, the client gets exactly
 * MSG <id> <message>, its ACK gets no reply and deletes the push; the
 * events, STATS and PUSHES follow each step.
 */
START_TEST(test_push_flow)
{
	const struct pending	 sent = { 1, 86400, 1, "reboot  now\tplease" };
	struct hbd		*d;
	struct hbc		*a, *w, *c;
	unsigned long long	 id;

	d = start("", "", "");
	w = watch(d);
	a = hbc_admin(d);
	c = hbc_named(d, 1, "dev");
	expect_stats(a, 0, 0, 0, 0);
	id = push_ok(a, "dev", 0, sent.msg);
	expectf(c, "MSG %llu %s", id, sent.msg);
	hbd_expect_log(d, check_linef("push name=dev id=%llu", id), tmo());
	expect_event(w, "push name=dev id=%llu", id);
	expect_event(w, "delivered #1 id=%llu", id);
	expect_pushes(a, "dev", id - 1, &sent, 1);
	expect_stats(a, 1, 0, 0, 1);
	hbc_send(c, check_linef("ACK %llu\n", id));
	expect_pong(c);
	expect_event(w, "acked #1 id=%llu", id);
	expect_pushes(a, "dev", 0, NULL, 0);
	expect_stats(a, 1, 1, 0, 0);
	hbc_expect_silence(c, QUIET_MS);
	hbc_expect_silence(w, QUIET_MS);
	hbd_finish(d, a, w, c, NULL);
}
END_TEST

/*
 * Pushes to a name never seen wait for its HELLO, then go in PUSH order,
 * each sent once, without waiting for the ACK of the one before; a push
 * to a name online goes at once, and a second HELLO takes the new
 * name's pushes.
 */
START_TEST(test_push_offline)
{
	static const struct pending waiting[] = {
		{ 1, 86400, 0, "first" },
		{ 2, 86400, 0, "second one" },
		{ 3, 86400, 0, "third" },
	};
	struct hbd		*d;
	struct hbc		*a, *c;
	unsigned long long	 id0;
	size_t			 i;

	d = start("", "", "");
	a = hbc_admin(d);
	id0 = push_ok(a, "dev-o", 0, waiting[0].msg) - 1;
	for (i = 1; i < nitems(waiting); i++)
		ck_assert_uint_eq(push_ok(a, "dev-o", 0, waiting[i].msg),
		    id0 + waiting[i].id);
	ck_assert_uint_eq(push_ok(a, "later", 0, "for later"), id0 + 4);
	expect_pushes(a, "dev-o", id0, waiting, nitems(waiting));
	expect_stats(a, 4, 0, 0, 4);
	c = hbc_named(d, 1, "dev-o");
	for (i = 0; i < nitems(waiting); i++)
		expectf(c, "MSG %llu %s", id0 + waiting[i].id, waiting[i].msg);
	expect_pong(c);
	ck_assert_uint_eq(push_ok(a, "dev-o", 0, "now"), id0 + 5);
	expectf(c, "MSG %llu now", id0 + 5);
	hbc_send(c, "HELLO later\n");
	expectf(c, "OK #1");
	expectf(c, "MSG %llu for later", id0 + 4);
	expect_pong(c);
	hbd_finish(d, a, c, NULL);
}
END_TEST

/*
 * Pushes pipelined to two online names, interleaved: each client gets
 * its own, in PUSH order.
 */
START_TEST(test_push_order)
{
	struct hbd		*d;
	struct hbc		*a, *c[2];
	char			 buf[64 * 40];
	size_t			 len = 0;
	unsigned long long	 id0;
	int			 k;

	d = start("", "", "");
	a = hbc_admin(d);
	c[0] = hbc_named(d, 1, "dev-a");
	c[1] = hbc_named(d, 2, "dev-b");
	for (k = 0; k < 40; k++)
		len += snprintf(buf + len, sizeof(buf) - len,
		    "PUSH dev-%c 0 m%d\n", "ab"[k % 2], k);
	hbc_sendn(a, buf, len);
	id0 = read_ok(a, "PUSH dev-a 0 m0") - 1;
	for (k = 1; k < 40; k++)
		expectf(a, "OK %llu", id0 + k + 1);
	for (k = 0; k < 40; k++)
		expectf(c[k % 2], "MSG %llu m%d", id0 + k + 1, k);
	expect_pong(c[0]);
	expect_pong(c[1]);
	hbd_finish(d, a, c[0], c[1], NULL);
}
END_TEST

/*
 * With redeliver = 1, a push not acknowledged comes again with its id
 * after a second, no sooner, and PUSHES counts two tries; one ACKed
 * does not, and neither does the first once ACKed.
 */
START_TEST(test_push_redeliver_timer)
{
	const struct pending	 twice = { 1, 86400, 2, "m1" };
	struct hbd		*d;
	struct hbc		*a, *w, *c;
	long long		 sent;
	unsigned long long	 id0;

	d = start("", "redeliver = 1\n", "");
	w = watch(d);
	a = hbc_admin(d);
	c = hbc_named(d, 1, "dev");
	sent = hb_now_ms();
	id0 = push_ok(a, "dev", 0, "m1") - 1;
	ck_assert_uint_eq(push_ok(a, "dev", 0, "m2"), id0 + 2);
	expectf(c, "MSG %llu m1", id0 + 1);
	expectf(c, "MSG %llu m2", id0 + 2);
	hbc_send(c, check_linef("ACK %llu\n", id0 + 2));
	expect_pong(c);
	expectf(c, "MSG %llu m1", id0 + 1);
	ck_assert_int_ge(hb_now_ms() - sent, 950);
	expect_pushes(a, "dev", id0, &twice, 1);
	hbc_send(c, check_linef("ACK %llu\n", id0 + 1));
	expect_pong(c);
	hbc_expect_silence(c, 1500);
	expect_pushes(a, "dev", 0, NULL, 0);
	expect_stats(a, 2, 2, 0, 0);
	expect_event(w, "push name=dev id=%llu", id0 + 1);
	expect_event(w, "delivered #1 id=%llu", id0 + 1);
	expect_event(w, "push name=dev id=%llu", id0 + 2);
	expect_event(w, "delivered #1 id=%llu", id0 + 2);
	expect_event(w, "acked #1 id=%llu", id0 + 2);
	expect_event(w, "delivered #1 id=%llu", id0 + 1);
	expect_event(w, "acked #1 id=%llu", id0 + 1);
	hbd_finish(d, a, w, c, NULL);
}
END_TEST

/*
 * A push whose connection ends before its ACK goes again, same id, to
 * the name's next session: after a close, and to the connection that
 * replaces the holder of the name; with a push made meanwhile after it.
 */
START_TEST(test_push_redeliver_reconnect)
{
	static const struct pending tried[] = {
		{ 1, 86400, 1, "one" },
		{ 2, 86400, 1, "two" },
		{ 3, 86400, 0, "three" },
	};
	struct hbd		*d;
	struct hbc		*a, *w, *c[3];
	unsigned long long	 id0;
	int			 i;

	d = start("", "", "");
	w = watch(d);
	a = hbc_admin(d);
	c[0] = hbc_named(d, 1, "dev");
	id0 = push_ok(a, "dev", 0, "one") - 1;
	ck_assert_uint_eq(push_ok(a, "dev", 0, "two"), id0 + 2);
	expectf(c[0], "MSG %llu one", id0 + 1);
	expectf(c[0], "MSG %llu two", id0 + 2);
	hbc_close(c[0]);
	hbd_expect_disconnect(d, 1, "dev", "closed");
	ck_assert_uint_eq(push_ok(a, "dev", 0, "three"), id0 + 3);
	expect_pushes(a, "dev", id0, tried, nitems(tried));
	for (i = 1; i < 3; i++) {
		c[i] = hbc_named(d, i + 1, "dev");
		expectf(c[i], "MSG %llu one", id0 + 1);
		expectf(c[i], "MSG %llu two", id0 + 2);
		expectf(c[i], "MSG %llu three", id0 + 3);
		if (i == 1)
			continue;
		hbc_expect(c[1], "BYE replaced", tmo());
		hbc_expect_closed(c[1], tmo());
	}
	hbc_send(c[2], check_linef("ACK %llu\nACK %llu\nACK %llu\n", id0 + 1,
	    id0 + 2, id0 + 3));
	expect_pong(c[2]);
	expect_pushes(a, "dev", 0, NULL, 0);
	expect_stats(a, 3, 3, 0, 0);
	expect_event(w, "push name=dev id=%llu", id0 + 1);
	expect_event(w, "delivered #1 id=%llu", id0 + 1);
	expect_event(w, "push name=dev id=%llu", id0 + 2);
	expect_event(w, "delivered #1 id=%llu", id0 + 2);
	expect_event(w, "push name=dev id=%llu", id0 + 3);
	for (i = 2; i <= 3; i++) {
		expect_event(w, "delivered #%d id=%llu", i, id0 + 1);
		expect_event(w, "delivered #%d id=%llu", i, id0 + 2);
		expect_event(w, "delivered #%d id=%llu", i, id0 + 3);
	}
	for (i = 1; i <= 3; i++)
		expect_event(w, "acked #3 id=%llu", id0 + i);
	hbd_finish(d, a, w, c[1], c[2], NULL);
}
END_TEST

/*
 * An ACK for an id not pending for the client's name is ignored: no
 * answer, nothing deleted, the connection kept. That covers another
 * name's push, an unnamed client, ids never given or already acked,
 * words that are no id at all, and the client's own id with a sign,
 * with a tail, or past 64 bits. ACK is case-insensitive.
 */
START_TEST(test_push_stray_ack)
{
	const struct pending	 pa = { 1, 86400, 1, "for a" };
	const struct pending	 pb = { 2, 86400, 1, "for b" };
	struct hbd		*d;
	struct hbc		*a, *ca, *cb, *cu;
	unsigned long long	 id0;

	d = start("", "", "");
	a = hbc_admin(d);
	ca = hbc_named(d, 1, "dev-a");
	cb = hbc_named(d, 2, "dev-b");
	cu = hbc_connect(d->port);
	id0 = push_ok(a, "dev-a", 0, pa.msg) - 1;
	ck_assert_uint_eq(push_ok(a, "dev-b", 0, pb.msg), id0 + 2);
	expectf(ca, "MSG %llu for a", id0 + 1);
	expectf(cb, "MSG %llu for b", id0 + 2);
	hbc_send(ca, check_linef("ACK %llu\nACK %llu\nACK 999\nACK 0\n"
	    "ACK x\nACK\nACK -1\nACK %llux\nACK +%llu\nACK %s\n", id0 + 2,
	    id0 + 3, id0 + 1, id0 + 1, check_id_wrapped(id0 + 1)));
	expect_pong(ca);
	hbc_send(cu, check_linef("ACK %llu\nACK %llu\n", id0 + 1, id0 + 2));
	expect_pong(cu);
	expect_pushes(a, "dev-a", id0, &pa, 1);
	expect_pushes(a, "dev-b", id0, &pb, 1);
	expect_stats(a, 2, 0, 0, 2);
	hbc_send(ca, check_linef("ack %llu\n", id0 + 1));
	expect_pong(ca);
	expect_pushes(a, "dev-a", 0, NULL, 0);
	hbc_send(ca, check_linef("ACK %llu\n", id0 + 1));
	expect_pong(ca);
	expect_stats(a, 2, 1, 0, 1);
	hbc_send(cb, check_linef("ACK %llu\n", id0 + 2));
	expect_pong(cb);
	expect_stats(a, 2, 2, 0, 0);
	hbd_finish(d, a, ca, cb, cu, NULL);
}
END_TEST

/*
 * A push past its ttl expires, no sooner: its event, gone from PUSHES,
 * counted, and never sent to a later HELLO. ttl 0 is the default ttl;
 * a push sent but not acknowledged expires too, and its late ACK is
 * ignored.
 */
START_TEST(test_push_expiry)
{
	const struct pending	 stays = { 2, 30, 0, "stays" };
	const struct pending	 both[] = {
		{ 1, 2, 0, "gone" }, { 2, 30, 0, "stays" },
	};
	struct hbd		*d;
	struct hbc		*a, *w, *c;
	long long		 t;
	unsigned long long	 id0;

	d = start("", "ttl = 30\n", "");
	w = watch(d);
	a = hbc_admin(d);
	t = hb_now_ms();
	id0 = push_ok(a, "dev", 2, "gone") - 1;
	ck_assert_uint_eq(push_ok(a, "dev", 0, "stays"), id0 + 2);
	expect_pushes(a, "dev", id0, both, 2);
	expect_event(w, "push name=dev id=%llu", id0 + 1);
	expect_event(w, "push name=dev id=%llu", id0 + 2);
	expect_event(w, "expired name=dev id=%llu", id0 + 1);
	ck_assert_int_ge(hb_now_ms() - t, 1950);
	expect_pushes(a, "dev", id0, &stays, 1);
	expect_stats(a, 2, 0, 1, 1);
	c = hbc_named(d, 1, "dev");
	expectf(c, "MSG %llu stays", id0 + 2);
	expect_pong(c);
	expect_event(w, "delivered #1 id=%llu", id0 + 2);
	ck_assert_uint_eq(push_ok(a, "dev", 1, "late"), id0 + 3);
	expectf(c, "MSG %llu late", id0 + 3);
	expect_event(w, "push name=dev id=%llu", id0 + 3);
	expect_event(w, "delivered #1 id=%llu", id0 + 3);
	expect_event(w, "expired name=dev id=%llu", id0 + 3);
	hbc_send(c, check_linef("ACK %llu\n", id0 + 3));
	expect_pong(c);
	expect_stats(a, 3, 0, 2, 1);
	hbc_send(c, check_linef("ACK %llu\n", id0 + 2));
	expect_pong(c);
	expect_event(w, "acked #1 id=%llu", id0 + 2);
	expect_stats(a, 3, 1, 2, 0);
	hbd_finish(d, a, w, c, NULL);
}
END_TEST

/*
 * max_per_name and max_total refuse a push with ERR full, which is
 * neither kept nor delivered; room made by UNPUSH or ACK takes one more.
 */
START_TEST(test_push_limits)
{
	struct hbd		*d;
	struct hbc		*a, *c;
	unsigned long long	 id0, c2, a5;

	d = start("", "max_per_name = 2\nmax_total = 3\n", "");
	a = hbc_admin(d);
	id0 = push_ok(a, "a", 0, "a1") - 1;
	ck_assert_uint_eq(push_ok(a, "a", 0, "a2"), id0 + 2);
	hbc_expect_cmd(a, "PUSH a 0 a3", "ERR full name has 2 pending pushes",
	    tmo());
	ck_assert_uint_eq(push_ok(a, "b", 0, "b1"), id0 + 3);
	hbc_expect_cmd(a, "PUSH c 0 c1", "ERR full 3 pushes pending", tmo());
	expect_stats(a, 3, 0, 0, 3);
	hbc_expect_cmd(a, check_linef("UNPUSH %llu", id0 + 1), "OK", tmo());
	c2 = push_ok(a, "c", 0, "c2");
	ck_assert_uint_gt(c2, id0 + 3);
	hbc_expect_cmd(a, "PUSH a 0 a4", "ERR full 3 pushes pending", tmo());
	c = hbc_named(d, 1, "a");
	expectf(c, "MSG %llu a2", id0 + 2);
	expect_pong(c);
	hbc_send(c, check_linef("ACK %llu\n", id0 + 2));
	expect_pong(c);
	a5 = push_ok(a, "a", 0, "a5");
	ck_assert_uint_gt(a5, c2);
	expectf(c, "MSG %llu a5", a5);
	hbd_finish(d, a, c, NULL);
}
END_TEST

/*
 * UNPUSH deletes a pending push, waiting or sent: it is not sent, and
 * the ACK of one sent is ignored; a second UNPUSH finds nothing.
 */
START_TEST(test_push_unpush)
{
	const struct pending	 two = { 2, 86400, 0, "two" };
	struct hbd		*d;
	struct hbc		*a, *c;
	unsigned long long	 id0;

	d = start("", "", "");
	a = hbc_admin(d);
	id0 = push_ok(a, "dev", 0, "one") - 1;
	ck_assert_uint_eq(push_ok(a, "dev", 0, "two"), id0 + 2);
	hbc_expect_cmd(a, check_linef("UNPUSH %llu", id0 + 1), "OK", tmo());
	expect_err(a, check_linef("UNPUSH %llu", id0 + 1), "notfound");
	expect_err(a, "UNPUSH 99", "notfound");
	expect_err(a, "UNPUSH", "syntax");
	hb_assert_match(hbc_cmd(a, "UNPUSH x", tmo()),
	    "^ERR (syntax|notfound) [^ ]");
	expect_pushes(a, "dev", id0, &two, 1);
	c = hbc_named(d, 1, "dev");
	expectf(c, "MSG %llu two", id0 + 2);
	expect_pong(c);
	hbc_expect_cmd(a, check_linef("unpush %llu", id0 + 2), "OK", tmo());
	hbc_send(c, check_linef("ACK %llu\n", id0 + 2));
	expect_pong(c);
	expect_stats(a, 2, 0, 0, 0);
	hbc_close(c);
	hbd_expect_disconnect(d, 1, "dev", "closed");
	c = hbc_named(d, 2, "dev");
	expect_pong(c);
	hbd_finish(d, a, c, NULL);
}
END_TEST

/*
 * PUSH's words: a ttl that is a whole number of seconds up to 30 days,
 * a message that is not empty, holds no \r or NUL and is at most
 * max_line bytes; PUSHES needs a name. Nothing refused is kept.
 */
START_TEST(test_push_syntax)
{
	static const char *const bad[] = {
		"PUSH", "PUSH dev", "PUSH dev 0", "PUSH dev 0 ",
		"PUSH dev x hello", "PUSH dev -1 hello",
		"PUSH dev 2592001 hello", "PUSH dev 99999999999999999999 hi",
		"PUSH dev 5x hello", "PUSHES",
	};
	static const char max[] =
	    "0123456789012345678901234567890123456789012345678901234567890123";
	const struct pending	 kept[] = {
		{ 1, 86400, 0, max }, { 2, MAX_TTL, 0, "longest" },
		{ 3, 86400, 0, "lower case" },
	};
	struct hbd		*d;
	struct hbc		*a;
	unsigned long long	 id0;
	size_t			 i;

	d = start("", "", "");
	a = hbc_admin(d);
	for (i = 0; i < nitems(bad); i++)
		expect_err(a, bad[i], "syntax");
	hbc_send(a, "PUSH dev 0 a\rb\n");
	expectf(a, "ERR syntax message holds CR or NUL");
	hbc_sendn(a, "PUSH dev 0 a\0b\n", 15);
	expectf(a, "ERR syntax message holds CR or NUL");
	hb_assert_match(hbc_cmd(a, "PUSH bad/name 0 hello", tmo()),
	    "^ERR [a-z]+ [^ ]");
	hbc_expect_cmd(a, "PUSH dev 0 X01234567890123456789012345678901234567"
	    "89012345678901234567890123", "ERR toolong message exceeds 64 "
	    "bytes", tmo());
	expect_stats(a, 0, 0, 0, 0);
	id0 = push_ok(a, "dev", 0, max) - 1;
	ck_assert_uint_eq(push_ok(a, "dev", MAX_TTL, "longest"), id0 + 2);
	hbc_expect_cmd(a, "push dev 0 lower case", check_linef("OK %llu",
	    id0 + 3), tmo());
	expect_pushes(a, "dev", id0, kept, nitems(kept));
	hbc_expect_cmd(a, "PUSHES nobody", "END", tmo());
	hbd_finish(d, a, NULL);
}
END_TEST

/*
 * Ids grow: one deleted is not given again, by UNPUSH or by ACK, and,
 * with a state file, not after a clean restart either, where the
 * pushes still pending are delivered after those made since. The file
 * numbers them from 1.
 */
START_TEST(test_push_ids_restart)
{
	const struct pending	 kept = { 2, 86400, -1, "b" };
	struct hbd		*d;
	struct hbc		*a, *c;
	char			 state[PATH_MAX + 32];

	snprintf(state, sizeof(state), "file = %s/state.db\n", hb_state_dir());
	d = start("", "", state);
	a = hbc_admin(d);
	ck_assert_uint_eq(push_ok(a, "dev", 0, "a"), 1);
	ck_assert_uint_eq(push_ok(a, "dev", 0, "b"), 2);
	ck_assert_uint_eq(push_ok(a, "other", 0, "c"), 3);
	hbc_expect_cmd(a, "UNPUSH 3", "OK", tmo());
	c = hbc_named(d, 1, "dev");
	expectf(c, "MSG 1 a");
	expectf(c, "MSG 2 b");
	hbc_send(c, "ACK 1\n");
	expect_pong(c);
	ck_assert_uint_eq(push_ok(a, "other", 0, "d"), 4);
	hbc_expect_cmd(a, "UNPUSH 4", "OK", tmo());
	hbc_close(a);
	hbc_close(c);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);

	d = start("", "", state);
	a = hbc_admin(d);
	expect_pushes(a, "dev", 0, &kept, 1);
	expect_pushes(a, "other", 0, NULL, 0);
	ck_assert_uint_eq(push_ok(a, "dev", 0, "e"), 5);
	c = hbc_named(d, 1, "dev");
	expectf(c, "MSG 2 b");
	expectf(c, "MSG 5 e");
	hbc_send(c, "ACK 2\nACK 5\n");
	expect_pong(c);
	hbd_finish(d, a, c, NULL);
	hb_state_rm();
}
END_TEST

/*
 * Without a state file ids go on from the clock in microseconds, so
 * that a device, which drops an id it has seen, never drops a new push:
 * a daemon started again, after a clean stop (_i = 0) or a crash
 * (_i = 1), gives ids above every one given before, even when those ran
 * ahead of the clock by a pipelined burst just before the stop.
 */
START_TEST(test_push_ids_clock)
{
	unsigned char		 seen[PIPE_SESSIONS * PIPE_PUSHES];
	struct hbd		*d;
	struct hbc		*a;
	unsigned long long	 before, id, last = 0;
	int			 run, sig;

	for (run = 0; run < 2; run++) {
		before = check_clock_us();
		d = start("", "", "");
		a = hbc_admin(d);
		id = push_ok(a, "dev", 0, "first");
		ck_assert_msg(id > before && id > last, "run %d: first id "
		    "%llu, clock before %llu, last id before %llu", run, id,
		    before, last);
		memset(seen, 0, sizeof(seen));
		pipeline_send(a, 0);
		pipeline_read(a, 0, seen, id);
		last = push_ok(a, "dev", 0, "last");
		ck_assert_uint_eq(last, id + PIPE_PUSHES + 1);
		hbc_close(a);
		sig = run == 0 && _i == 1 ? SIGKILL : SIGTERM;
		ck_assert_int_eq(hbd_stop(d, sig), sig == SIGKILL ?
		    128 + SIGKILL : 0);
	}
}
END_TEST

/*
 * A reload applies new limits to new pushes: the ones pending past them
 * stay, and are delivered.
 */
START_TEST(test_push_reload)
{
	struct hbd		*d;
	struct hbc		*a, *c;
	FILE			*f;
	unsigned long long	 id0;

	d = start("", "max_per_name = 2\n", "");
	a = hbc_admin(d);
	id0 = push_ok(a, "dev", 0, "one") - 1;
	ck_assert_uint_eq(push_ok(a, "dev", 0, "two"), id0 + 2);
	ck_assert_ptr_nonnull(f = fopen(d->conf, "w"));
	fprintf(f, CONF_FMT, "", "max_per_name = 1\nmax_total = 5\n", "");
	ck_assert_int_eq(fclose(f), 0);
	hbc_expect_cmd(a, "RELOAD", "OK changed=push.max_per_name,"
	    "push.max_total", tmo());
	expect_err(a, "PUSH dev 0 three", "full");
	ck_assert_uint_eq(push_ok(a, "other", 0, "o"), id0 + 3);
	expect_stats(a, 3, 0, 0, 3);
	c = hbc_named(d, 1, "dev");
	expectf(c, "MSG %llu one", id0 + 1);
	expectf(c, "MSG %llu two", id0 + 2);
	expect_pong(c);
	hbd_finish(d, a, c, NULL);
}
END_TEST

/* Pipelines PIPE_PUSHES PUSHes on a, a PUSHES nobody after every 25th. */
static void
pipeline_send(struct hbc *a, int session)
{
	char	 buf[PIPE_PUSHES * 40];
	size_t	 len = 0;
	int	 k;

	for (k = 0; k < PIPE_PUSHES; k++) {
		len += snprintf(buf + len, sizeof(buf) - len,
		    "PUSH p%d 0 s%d m%d\n", k % 10, session, k);
		if (k % 25 == 24)
			len += snprintf(buf + len, sizeof(buf) - len,
			    "PUSHES nobody\n");
	}
	hbc_sendn(a, buf, len);
}

/*
 * Reads pipeline_send()'s answers on a, in order: growing ids above
 * after, each marked in seen[] (indexed by id - after - 1) once.
 */
static void
pipeline_read(struct hbc *a, int session, unsigned char *seen,
    unsigned long long after)
{
	const char		*line;
	unsigned long long	 id, last = after;
	int			 k;

	for (k = 0; k < PIPE_PUSHES; k++) {
		line = hbc_readline(a, tmo());
		ck_assert_msg(line != NULL, "session %d: no answer to PUSH "
		    "%d", session, k);
		hb_assert_match(line, "^OK [1-9][0-9]*$");
		id = strtoull(line + 3, NULL, 10);
		ck_assert_msg(id > last && id <= after + PIPE_SESSIONS *
		    PIPE_PUSHES && !seen[id - after - 1], "session %d: id %llu "
		    "after %llu", session, id, last);
		seen[id - after - 1] = 1;
		last = id;
		if (k % 25 == 24)
			hbc_expect(a, "END", tmo());
	}
}

/*
 * A session's answers come in the order of its commands, also when the
 * PUSHes among them wait for the state file (_i = 1, whose ids start at
 * 1): PUSH, STATS, PUSH, PUSHES, UNPUSH pipelined; then two sessions
 * pipelining PUSHes at once, each answered in order with growing ids,
 * none given twice.
 */
START_TEST(test_push_pipeline)
{
	unsigned char		 seen[PIPE_SESSIONS * PIPE_PUSHES];
	struct hbd		*d;
	struct hbc		*a[PIPE_SESSIONS];
	const char		*line;
	unsigned long long	 id0;
	int			 i, stats = 0;

	memset(seen, 0, sizeof(seen));
	d = start("", "", _i == 0 ? "" : "file = @DIR@/state.db\n");
	for (i = 0; i < PIPE_SESSIONS; i++)
		a[i] = hbc_admin(d);
	hbc_send(a[0], "PUSH dev 0 m1\nSTATS\nPUSH dev 0 m2\nPUSHES nobody\n"
	    "UNPUSH 99\nPUSH dev 0 m3\n");
	id0 = read_ok(a[0], "PUSH dev 0 m1") - 1;
	if (_i == 1)
		ck_assert_uint_eq(id0, 0);
	while ((line = hbc_readline(a[0], tmo())) != NULL &&
	    strncmp(line, "STAT ", 5) == 0)
		stats++;
	ck_assert_msg(stats > 0 && line != NULL && strcmp(line, "END") == 0,
	    "STATS: %d lines, then \"%s\"", stats, line ? line : "(none)");
	expectf(a[0], "OK %llu", id0 + 2);
	expectf(a[0], "END");
	hb_assert_match(hbc_readline(a[0], tmo()), "^ERR notfound [^ ]");
	expectf(a[0], "OK %llu", id0 + 3);
	for (i = 0; i < PIPE_SESSIONS; i++)
		pipeline_send(a[i], i);
	for (i = 0; i < PIPE_SESSIONS; i++)
		pipeline_read(a[i], i, seen, id0 + 3);
	expect_stats(a[0], 3 + PIPE_SESSIONS * PIPE_PUSHES, 0, 0,
	    3 + PIPE_SESSIONS * PIPE_PUSHES);
	hbd_finish(d, a[0], a[1], NULL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("push");

	HB_TCASE(s, "flow", test_push_flow, 1);
	HB_TCASE(s, "offline", test_push_offline, 1);
	HB_TCASE(s, "order", test_push_order, 1);
	HB_TCASE(s, "redeliver_timer", test_push_redeliver_timer, 1);
	HB_TCASE(s, "redeliver_reconnect", test_push_redeliver_reconnect, 1);
	HB_TCASE(s, "stray_ack", test_push_stray_ack, 1);
	HB_TCASE(s, "expiry", test_push_expiry, 1);
	HB_TCASE(s, "limits", test_push_limits, 1);
	HB_TCASE(s, "unpush", test_push_unpush, 1);
	HB_TCASE(s, "syntax", test_push_syntax, 1);
	HB_TCASE(s, "ids_restart", test_push_ids_restart, 1);
	HB_TCASE(s, "ids_clock", test_push_ids_clock, 2);
	HB_TCASE(s, "reload", test_push_reload, 1);
	HB_TCASE(s, "pipeline", test_push_pipeline, 2);
	return (s);
}
