/*
 * Unit tests for src/push.c, the push engine of SPEC §13, over the memory
 * store and in one process: real clients on socketpairs, made by
 * client_new() as the listener makes them, and this event loop run until
 * the line a test waits for arrives. They check the answers to
 * push_submit(), the limits, PUSHES' view, the MSG lines and their order,
 * ACKs, stray ACKs, redelivery by timer and by a new session, pacing by
 * the client's output queue, expiry, and the event lines of each step.
 *
 * The memory store starts ids at the clock, so a test names its ids
 * relative to the first it is given: id0 is one less than that, and the
 * n-th push of a test is id0 + n.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "check_main.h"
#include "client.h"
#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "log.h"
#include "push.h"
#include "registry.h"
#include "seen.h"
#include "stats.h"
#include "util.h"

#define WAIT_MS		3000	/* longest wait for a line */
#define TEXT_MAX	2048
#define EVENTS_MAX	64
#define PEERS_MAX	4

/* PUSHES' age and ttl of the pushes id0 + 1 and id0 + 2. */
struct timing {
	uint64_t	 id0;
	double		 v[4];
};

/* What push_submit()'s callback was told. */
struct answer {
	int		 called;
	uint64_t	 id;
	char		 error[128];
};

/* The device end of a client connection, with its unread bytes. */
struct peer {
	int		 fd;
	char		 buf[65536];
	size_t		 len;
};

static void	 setup(void);
static void	 teardown(void);
static void	 answered(void *, uint64_t, const char *);
static uint64_t	 submit(const char *, uint64_t, const char *);
static void	 sink(uint64_t, enum event_kind, const char *, size_t);
static void	 check_event(size_t, const char *);
static struct peer *peer_new(void);
static struct peer *peer_named(const char *, const char *);
static void	 say(struct peer *, const char *);
static void	 turn(struct peer *, int);
static char	*next_line(struct peer *);
static void	 expect(struct peer *, const char *);
static void	 barrier(struct peer *);
static void	 listed(const struct push_info *, void *);
static const char *list(const char *);
static void	 timed(const struct push_info *, void *);

static char		 conf_path[] = "/tmp/check_push_unit.XXXXXX";
static struct peer	*peers[PEERS_MAX];
static size_t		 npeers;
static char		*events[EVENTS_MAX];
static size_t		 nevents;

static void
setup(void)
{
	static const char	 text[] = "[log]\nsyslog = no\nlevel = err\n";
	char			*cause = NULL;
	int			 fd;

	signal(SIGPIPE, SIG_IGN);
	strlcpy(conf_path, "/tmp/check_push_unit.XXXXXX", sizeof(conf_path));
	ck_assert_int_ne(fd = mkstemp(conf_path), -1);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	hb_conf = config_load(conf_path, &cause);
	ck_assert_msg(hb_conf != NULL, "%s", cause);
	unlink(conf_path);
	log_init("check_push_unit", 0);
	log_configure(hb_conf);
	ck_assert_ptr_nonnull(hb_base = event_base_new());
	memset(&stats, 0, sizeof(stats));
	seen_configure(hb_conf);
	events_sink_add(sink);
	ck_assert_int_eq(push_start(&cause), 0);
}

static void
teardown(void)
{
	size_t	 i;

	client_close_all(REASON_SHUTDOWN);
	events_sink_remove(sink);
	push_stop();
	seen_free();
	events_free();
	for (i = 0; i < npeers; i++) {
		close(peers[i]->fd);
		free(peers[i]);
	}
	for (i = 0; i < nevents; i++)
		free(events[i]);
	npeers = nevents = 0;
	event_base_free(hb_base);
	config_free(hb_conf);
}

static void
answered(void *arg, uint64_t id, const char *error)
{
	struct answer	*a = arg;

	a->called++;
	a->id = id;
	strlcpy(a->error, error != NULL ? error : "", sizeof(a->error));
}

/* Submits a push the memory store keeps at once; returns its id. */
static uint64_t
submit(const char *name, uint64_t ttl, const char *msg)
{
	struct answer	 a;
	const char	*why;

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(push_submit(name, ttl, msg, strlen(msg), answered,
	    &a, &why), 0);
	ck_assert_int_eq(a.called, 1);
	ck_assert_str_eq(a.error, "");
	return (a.id);
}

/* The WATCH feed: keeps every event line but data lines. */
static void
sink(uint64_t seq, enum event_kind kind, const char *text, size_t len)
{
	ck_assert_uint_lt(nevents, EVENTS_MAX);
	events[nevents++] = strndup(text, len);
}

/* Checks that the event line numbered i (from 0) reads want. */
static void
check_event(size_t i, const char *want)
{
	ck_assert_msg(i < nevents, "event %zu of %zu", i, nevents);
	ck_assert_str_eq(events[i], want);
}

/* Connects a device through a socketpair, as an accepted client. */
static struct peer *
peer_new(void)
{
	struct peer	*p;
	struct conn	 conn;
	int		 sv[2];

	ck_assert_uint_lt(npeers, PEERS_MAX);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(fd_nonblock_cloexec(sv[0]), 0);
	ck_assert_int_eq(fd_nonblock_cloexec(sv[1]), 0);
	conn.fd = sv[0];
	conn.ssl = NULL;
	ck_assert_ptr_nonnull(client_new(&conn, check_sa("192.0.2.1:4000"),
	    sizeof(struct sockaddr_in)));
	p = calloc(1, sizeof(*p));
	p->fd = sv[1];
	peers[npeers++] = p;
	return (p);
}

/* A new device that says HELLO name and gets the answer ok. */
static struct peer *
peer_named(const char *name, const char *ok)
{
	struct peer	*p = peer_new();
	char		 hello[80];

	snprintf(hello, sizeof(hello), "HELLO %s", name);
	say(p, hello);
	expect(p, ok);
	return (p);
}

static void
say(struct peer *p, const char *line)
{
	size_t	 len = strlen(line);

	ck_assert_int_eq(write(p->fd, line, len), (ssize_t)len);
	ck_assert_int_eq(write(p->fd, "\n", 1), 1);
}

/* Runs the loop once, then waits up to ms for p's socket and reads. */
static void
turn(struct peer *p, int ms)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	event_base_loop(hb_base, EVLOOP_NONBLOCK);
	pfd.fd = p->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, ms) != 1)
		return;
	n = read(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
	ck_assert_msg(n > 0 || (n == -1 && errno == EAGAIN), "read: %zd", n);
	if (n > 0)
		p->len += n;
}

/* The next line p gets, without its newline, valid until the next call. */
static char *
next_line(struct peer *p)
{
	static char	 line[TEXT_MAX];
	uint64_t	 until = mono_ns() + WAIT_MS * 1000000ULL;
	char		*nl;
	size_t		 n;

	while ((nl = memchr(p->buf, '\n', p->len)) == NULL) {
		ck_assert_msg(mono_ns() < until, "no line within %d ms",
		    WAIT_MS);
		turn(p, 5);
	}
	n = nl - p->buf;
	ck_assert_uint_lt(n, sizeof(line));
	memcpy(line, p->buf, n);
	line[n] = '\0';
	memmove(p->buf, nl + 1, p->len - n - 1);
	p->len -= n + 1;
	return (line);
}

static void
expect(struct peer *p, const char *want)
{
	ck_assert_str_eq(next_line(p), want);
}

/*
 * A PING answered PONG: every line p sent before it was handled, and
 * nothing was sent to p in between.
 */
static void
barrier(struct peer *p)
{
	say(p, "PING barrier");
	expect(p, "PONG barrier");
}

static void
listed(const struct push_info *pi, void *arg)
{
	char	*out = arg;
	size_t	 len = strlen(out);

	snprintf(out + len, TEXT_MAX - len, "%s%llu:%llu:%.*s",
	    len > 0 ? " " : "", (unsigned long long)pi->id,
	    (unsigned long long)pi->tries, (int)pi->len, pi->msg);
}

/* PUSHES of name as "id:tries:message ...", in its order. */
static const char *
list(const char *name)
{
	static char	 out[TEXT_MAX];

	out[0] = '\0';
	push_list(name, listed, out);
	return (out);
}

/*
 * Ids count up across names; each name and the whole hold no more than
 * their limits, whose ERR full texts are SPEC §13's; the answer comes at
 * once with the memory store.
 */
START_TEST(test_push_submit)
{
	struct answer		 a;
	const char		*why;
	unsigned long long	 id0;

	hb_conf->push_max_per_name = 3;
	hb_conf->push_max_total = 5;
	id0 = submit("a", 0, "one") - 1;
	ck_assert_uint_eq(submit("a", 60, "two words"), id0 + 2);
	ck_assert_uint_eq(submit("b", 0, "three"), id0 + 3);
	ck_assert_uint_eq(submit("a", 0, "four"), id0 + 4);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(push_submit("a", 0, "x", 1, answered, &a, &why), -1);
	ck_assert_str_eq(why, "name has 3 pending pushes");
	ck_assert_uint_eq(submit("b", 0, "five"), id0 + 5);
	ck_assert_int_eq(push_submit("c", 0, "x", 1, answered, &a, &why), -1);
	ck_assert_str_eq(why, "5 pushes pending");
	ck_assert_int_eq(a.called, 0);
	ck_assert_uint_eq(push_pending(), 5);
	ck_assert_uint_eq(stats.pushes_queued, 5);
	ck_assert_uint_eq(stats.pushes_pending, 5);
	ck_assert_str_eq(list("a"), check_linef("%llu:0:one %llu:0:two words "
	    "%llu:0:four", id0 + 1, id0 + 2, id0 + 4));
	ck_assert_str_eq(list("b"), check_linef("%llu:0:three %llu:0:five",
	    id0 + 3, id0 + 5));
	ck_assert_str_eq(list("c"), "");
	ck_assert_int_eq(push_cancel(id0 + 2), 0);
	ck_assert_int_eq(push_cancel(id0 + 2), -1);
	ck_assert_int_eq(push_cancel(id0 + 99), -1);
	ck_assert_str_eq(list("a"), check_linef("%llu:0:one %llu:0:four",
	    id0 + 1, id0 + 4));
	ck_assert_uint_eq(submit("c", 0, "six"), id0 + 6);
	ck_assert_uint_eq(push_pending(), 5);
	check_event(0, check_linef("push name=a id=%llu", id0 + 1));
	check_event(5, check_linef("push name=c id=%llu", id0 + 6));
	ck_assert_uint_eq(nevents, 6);
}
END_TEST

/* Records PUSHES' age and ttl of pushes id0 + 1 and id0 + 2. */
static void
timed(const struct push_info *pi, void *arg)
{
	struct timing	*t = arg;

	ck_assert(pi->id > t->id0 && pi->id <= t->id0 + 2);
	t->v[2 * (pi->id - t->id0 - 1)] = pi->age;
	t->v[2 * (pi->id - t->id0 - 1) + 1] = pi->ttl;
}

/* PUSHES' ttl is what is left of the ttl asked for, or of [push] ttl. */
START_TEST(test_push_ttl)
{
	struct timing	 t;
	double		*v = t.v;

	hb_conf->push_ttl = 3600;
	t.id0 = submit("a", 0, "default") - 1;
	ck_assert_uint_eq(submit("a", 2592000, "longest"), t.id0 + 2);
	push_list("a", timed, &t);
	ck_assert(v[0] >= 0 && v[0] < 1 && v[2] >= 0 && v[2] < 1);
	ck_assert_msg(v[1] > 3599 && v[1] <= 3600, "ttl %f", v[1]);
	ck_assert_msg(v[3] > 2591999 && v[3] <= 2592000, "ttl %f", v[3]);
}
END_TEST

/*
 * A name's pushes go out as MSG once it says HELLO, after the answer to
 * the HELLO and in PUSH order, and at once while it is online; an ACK
 * deletes one, with no answer, and moves the counters.
 */
START_TEST(test_push_deliver)
{
	struct peer		*p;
	unsigned long long	 id0;

	id0 = submit("dev", 0, "one") - 1;
	ck_assert_uint_eq(submit("dev", 0, "two  spaced "), id0 + 2);
	p = peer_named("dev", "OK #1");
	expect(p, check_linef("MSG %llu one", id0 + 1));
	expect(p, check_linef("MSG %llu two  spaced ", id0 + 2));
	ck_assert_str_eq(list("dev"), check_linef("%llu:1:one "
	    "%llu:1:two  spaced ", id0 + 1, id0 + 2));
	say(p, check_linef("ACK %llu", id0 + 1));
	barrier(p);
	ck_assert_str_eq(list("dev"), check_linef("%llu:1:two  spaced ",
	    id0 + 2));
	ck_assert_uint_eq(stats.pushes_acked, 1);
	ck_assert_uint_eq(push_pending(), 1);
	ck_assert_uint_eq(submit("dev", 0, "three"), id0 + 3);
	expect(p, check_linef("MSG %llu three", id0 + 3));
	say(p, check_linef("ack %llu", id0 + 3));
	say(p, check_linef("ACK %llu", id0 + 2));
	barrier(p);
	ck_assert_str_eq(list("dev"), "");
	ck_assert_uint_eq(push_pending(), 0);
	ck_assert_uint_eq(stats.pushes_acked, 3);
	check_event(0, check_linef("push name=dev id=%llu", id0 + 1));
	check_event(1, check_linef("push name=dev id=%llu", id0 + 2));
	check_event(2, "connect #1 addr=192.0.2.1:4000 clients=1");
	check_event(3, "hello #1 name=dev");
	check_event(4, check_linef("delivered #1 id=%llu", id0 + 1));
	check_event(5, check_linef("delivered #1 id=%llu", id0 + 2));
	check_event(6, check_linef("acked #1 id=%llu", id0 + 1));
	check_event(7, check_linef("push name=dev id=%llu", id0 + 3));
	check_event(8, check_linef("delivered #1 id=%llu", id0 + 3));
	check_event(9, check_linef("acked #1 id=%llu", id0 + 3));
	check_event(10, check_linef("acked #1 id=%llu", id0 + 2));
	ck_assert_uint_eq(nevents, 11);
}
END_TEST

/*
 * ACKs that are not for a push pending for the client's name change
 * nothing and get no answer: no id, ids never given, the id with a
 * tail, with a space before or after it or past 64 bits, another name's
 * id; an unnamed client's neither.
 */
START_TEST(test_push_stray_ack)
{
	struct peer		*p, *q;
	unsigned long long	 id0;

	id0 = submit("dev", 0, "one") - 1;
	ck_assert_uint_eq(submit("other", 0, "two"), id0 + 2);
	q = peer_new();
	say(q, check_linef("ACK %llu", id0 + 1));
	barrier(q);
	p = peer_named("dev", "OK #2");
	expect(p, check_linef("MSG %llu one", id0 + 1));
	say(p, "ACK");
	say(p, "ACK ");
	say(p, "ACK 0");
	say(p, check_linef("ACK %llu", id0 + 3));
	say(p, "ACK x");
	say(p, check_linef("ACK %llux", id0 + 1));
	say(p, "ACK -1");
	say(p, check_linef("ACK %s", check_id_wrapped(id0 + 1)));
	say(p, check_linef("ACK  %llu", id0 + 1));
	say(p, check_linef("ACK %llu ", id0 + 1));
	say(p, check_linef("ACK %llu", id0 + 2));
	barrier(p);
	ck_assert_str_eq(list("dev"), check_linef("%llu:1:one", id0 + 1));
	ck_assert_str_eq(list("other"), check_linef("%llu:0:two", id0 + 2));
	ck_assert_uint_eq(stats.pushes_acked, 0);
	ck_assert_uint_eq(stats.data_lines, 0);
}
END_TEST

/*
 * A push not acknowledged within redeliver goes again with the same id,
 * and not sooner; tries counts each time.
 */
START_TEST(test_push_redeliver)
{
	struct peer		*p;
	uint64_t		 sent;
	double			 gap;
	unsigned long long	 id;
	char			 msg[64];

	hb_conf->push_redeliver = 0.2;
	id = submit("dev", 0, "one");
	snprintf(msg, sizeof(msg), "MSG %llu one", id);
	p = peer_named("dev", "OK #1");
	expect(p, msg);
	sent = mono_ns();
	expect(p, msg);
	gap = mono_seconds(sent, mono_ns());
	ck_assert_msg(gap >= 0.19 && gap < 1, "again after %.3f s", gap);
	ck_assert_str_eq(list("dev"), check_linef("%llu:2:one", id));
	say(p, check_linef("ACK %llu", id));
	barrier(p);
	ck_assert_str_eq(list("dev"), "");
	ck_assert_uint_eq(stats.pushes_acked, 1);
}
END_TEST

/*
 * What was in flight when a session ended goes to the name's next
 * session, also one that replaced it, and to the old name again after a
 * rename and back.
 */
START_TEST(test_push_sessions)
{
	struct peer		*p, *q, *r;
	unsigned long long	 id;
	char			 msg[64];

	id = submit("dev", 0, "one");
	snprintf(msg, sizeof(msg), "MSG %llu one", id);
	p = peer_named("dev", "OK #1");
	expect(p, msg);
	close(p->fd);
	p->fd = -1;
	while (registry_count() > 0)
		event_base_loop(hb_base, EVLOOP_ONCE);
	q = peer_named("dev", "OK #2");
	expect(q, msg);
	r = peer_new();
	say(r, "HELLO dev");
	expect(q, "BYE replaced");
	expect(r, "OK #3");
	expect(r, msg);
	say(r, "HELLO other");
	expect(r, "OK #3");
	say(r, "HELLO dev");
	expect(r, "OK #3");
	expect(r, msg);
	ck_assert_str_eq(list("dev"), check_linef("%llu:4:one", id));
}
END_TEST

/*
 * A name with more waiting than its client's output queue may hold gets
 * them as its ACKs come back, in order, rather than being dropped for
 * overflow.
 */
START_TEST(test_push_pace)
{
	struct peer		*p;
	char			 msg[1001];
	unsigned long long	 id0;
	int			 i, size = 4096;

	events_sink_remove(sink);
	hb_conf->send_buffer_limit = 4096;
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	id0 = submit("dev", 0, msg) - 1;
	for (i = 2; i <= 200; i++)
		ck_assert_uint_eq(submit("dev", 0, msg), id0 + i);
	p = peer_new();
	ck_assert_int_eq(setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &size,
	    sizeof(size)), 0);
	ck_assert_int_eq(setsockopt(TAILQ_FIRST(registry_list())->conn.fd,
	    SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
	say(p, "HELLO dev");
	expect(p, "OK #1");
	for (i = 1; i <= 200; i++) {
		expect(p, check_linef("MSG %llu %s", id0 + i, msg));
		say(p, check_linef("ACK %llu", id0 + i));
	}
	barrier(p);
	ck_assert_uint_eq(push_pending(), 0);
	ck_assert_uint_eq(stats.overflows, 0);
	ck_assert_uint_eq(registry_count(), 1);
}
END_TEST

/*
 * A push held back because the client's output queue is full (of SEND
 * lines here) goes out once that queue drains, with no ACK, PUSH or
 * HELLO to wake it.
 */
START_TEST(test_push_drain)
{
	struct peer		*p;
	struct client		*c;
	char			 line[1001];
	unsigned long long	 id;
	int			 i, n = 0, size = 4096;

	hb_conf->send_buffer_limit = 65536;
	memset(line, 'd', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	p = peer_named("dev", "OK #1");
	c = TAILQ_FIRST(registry_list());
	ck_assert_int_eq(setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &size,
	    sizeof(size)), 0);
	ck_assert_int_eq(setsockopt(c->conn.fd, SOL_SOCKET, SO_SNDBUF, &size,
	    sizeof(size)), 0);
	while (client_queued(c) <= hb_conf->send_buffer_limit / 2) {
		ck_assert_int_eq(client_send_line(c, line, sizeof(line) - 1),
		    0);
		ck_assert_int_lt(++n, 1000);
	}
	id = submit("dev", 0, "after the queue");
	for (i = 0; i < n; i++)
		expect(p, line);
	expect(p, check_linef("MSG %llu after the queue", id));
}
END_TEST

/*
 * A push whose ttl runs out is deleted, in flight or not, with its event,
 * and is not sent again.
 */
START_TEST(test_push_expire)
{
	struct peer	*p;
	uint64_t		 until = mono_ns() + WAIT_MS * 1000000ULL;
	const char		*line;
	unsigned long long	 id0;
	char			 first[64];

	hb_conf->push_redeliver = 0.2;
	id0 = submit("dev", 1, "short") - 1;
	ck_assert_uint_eq(submit("dev", 0, "long"), id0 + 2);
	ck_assert_uint_eq(submit("off", 1, "nobody"), id0 + 3);
	snprintf(first, sizeof(first), "MSG %llu short", id0 + 1);
	p = peer_named("dev", "OK #1");
	expect(p, first);
	expect(p, check_linef("MSG %llu long", id0 + 2));
	say(p, check_linef("ACK %llu", id0 + 2));
	while (stats.pushes_expired < 2) {
		ck_assert_msg(mono_ns() < until, "not expired");
		turn(p, 5);
	}
	say(p, "PING barrier");
	while (strcmp(line = next_line(p), "PONG barrier") != 0)
		ck_assert_str_eq(line, first);
	until = mono_ns() + 400 * 1000000ULL;
	while (mono_ns() < until)
		turn(p, 5);
	barrier(p);
	ck_assert_str_eq(list("dev"), "");
	ck_assert_str_eq(list("off"), "");
	ck_assert_uint_eq(push_pending(), 0);
	check_event(nevents - 2, check_linef("expired name=dev id=%llu",
	    id0 + 1));
	check_event(nevents - 1, check_linef("expired name=off id=%llu",
	    id0 + 3));
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("push_unit");
	tc = tcase_create("submit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_push_submit);
	tcase_add_test(tc, test_push_ttl);
	suite_add_tcase(s, tc);

	tc = tcase_create("deliver");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_push_deliver);
	tcase_add_test(tc, test_push_stray_ack);
	tcase_add_test(tc, test_push_redeliver);
	tcase_add_test(tc, test_push_sessions);
	tcase_add_test(tc, test_push_pace);
	tcase_add_test(tc, test_push_drain);
	tcase_add_test(tc, test_push_expire);
	suite_add_tcase(s, tc);
	return (s);
}
