/*
 * A fleet (SPEC §14): three heartbeatd nodes sharing a real redis-server
 * that the test starts on a Unix socket of its own (or a loopback port),
 * with no persistence. SEND and KICK by name across nodes, BROADCAST and
 * the word fleet, LIST fleet, duplicate_name across nodes under both
 * policies, the event stream read back from Redis, Redis killed, stopped
 * and restarted under the nodes, and a node killed. The test reads Redis
 * with hiredis's synchronous API. Skipped when redis-server is missing.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <hiredis.h>

#include "check_main.h"
#include "itest.h"

#define NNODES		3
#define NOSUCH		"ERR notfound no such client"
#define DEAD_MS		10000	/* FLEET_DEAD_MS */

/* A redis-server and three nodes, each with an admin session. */
struct fleet {
	pid_t		 redis;
	int		 redis_port;	/* 0: on the Unix socket */
	char		 dir[PATH_MAX];
	char		 sock[PATH_MAX];
	char		 redis_conf[512];	/* [cluster] lines beyond redis */
	struct hbd	*n[NNODES];
	struct hbc	*a[NNODES];
};

static int	 tmo(void);
static void	 redis_start(struct fleet *, const char *);
static redisContext *redis_connect(const struct fleet *);
static redisReply *rq(const struct fleet *, const char *, ...);
static long long rnum(const struct fleet *, const char *, ...);
static void	 node_start(struct fleet *, int, const char *);
static void	 node_link(struct fleet *, int);
static void	 fleet_up(struct fleet *, const char *, const char *);
static void	 fleet_down(struct fleet *);
static struct hbc *named(struct fleet *, int, const char *);
static void	 expect_unavailable(struct hbc *, const char *, const char *,
		    int);
static void	 wait_routed(struct fleet *, int, const char *);
static void	 far_near(struct fleet *, struct hbc **, struct hbc **);
static void	 wait_streamed(struct fleet *, int);
static void	 idle(struct fleet *);
static unsigned long long push(struct fleet *, int, const char *,
		    const char *);
static void	 expect_msg(struct hbc *, unsigned long long, const char *);

/* ms for an answer that is due, scaled for slow builds. */
static int
tmo(void)
{
	return ((int)(2000 * hb_slow_factor()));
}

/*
 * Starts redis-server with no persistence, on f->sock, or on a loopback
 * port when f->redis_port is set, with the extra arguments in args
 * (space separated), and waits until it answers PING.
 */
static void
redis_start(struct fleet *f, const char *args)
{
	char		*argv[32], *copy, *w, *sp, port[16], log[PATH_MAX];
	redisContext	*c;
	redisReply	*r;
	long long	 deadline = hb_now_ms() + 5000 * hb_slow_factor();
	int		 n = 0, fd;

	snprintf(port, sizeof(port), "%d", f->redis_port);
	argv[n++] = "redis-server";
	argv[n++] = "--port";
	argv[n++] = port;
	if (f->redis_port == 0) {
		argv[n++] = "--unixsocket";
		argv[n++] = f->sock;
	} else {
		argv[n++] = "--bind";
		argv[n++] = "127.0.0.1";
	}
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = f->dir;
	copy = strdup(args != NULL ? args : "");
	for (w = strtok_r(copy, " ", &sp); w != NULL && n < 30;
	    w = strtok_r(NULL, " ", &sp))
		argv[n++] = w;
	argv[n] = NULL;
	if (snprintf(log, sizeof(log), "%s/redis.log", f->dir) >=
	    (int)sizeof(log))
		ck_abort_msg("path too long");
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1)
		ck_abort_msg("%s: %s", log, strerror(errno));
	f->redis = hb_spawn(argv, fd, fd);
	close(fd);
	free(copy);
	for (;;) {
		if ((c = redis_connect(f)) != NULL) {
			r = redisCommand(c, "PING");
			redisFree(c);
			if (r != NULL) {
				freeReplyObject(r);
				return;
			}
		}
		ck_assert_msg(hb_now_ms() < deadline, "redis-server did not "
		    "start: %s", hb_read_file(log));
		idle(f);
	}
}

/*
 * Lets 20 ms pass between two looks at a state that comes in its own
 * time (a node's beat, its purge), so that polling does not take the
 * machine from the nodes; and checks on the way that Redis still runs.
 */
static void
idle(struct fleet *f)
{
	ck_assert_int_eq(hb_reap(f->redis, 20), -1);
}

/* A connection to the test's Redis, or NULL when it does not answer. */
static redisContext *
redis_connect(const struct fleet *f)
{
	redisContext	*c;

	if (f->redis_port != 0)
		c = redisConnect("127.0.0.1", f->redis_port);
	else
		c = redisConnectUnix(f->sock);
	if (c != NULL && c->err != 0) {
		redisFree(c);
		return (NULL);
	}
	return (c);
}

/* A command to the test's Redis (with its password, if any). */
static redisReply *
rq(const struct fleet *f, const char *fmt, ...)
{
	redisContext	*c;
	redisReply	*r;
	va_list		 ap;

	ck_assert_ptr_nonnull(c = redis_connect(f));
	if (strstr(f->redis_conf, "password") != NULL)
		freeReplyObject(redisCommand(c, "AUTH %s", "sesame"));
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "redis: %s", c->errstr);
	redisFree(c);
	return (r);
}

/* An integer answer of the test's Redis. */
static long long
rnum(const struct fleet *f, const char *fmt, ...)
{
	redisContext	*c;
	redisReply	*r;
	va_list		 ap;
	long long	 v;

	ck_assert_ptr_nonnull(c = redis_connect(f));
	if (strstr(f->redis_conf, "password") != NULL)
		freeReplyObject(redisCommand(c, "AUTH %s", "sesame"));
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL && r->type == REDIS_REPLY_INTEGER,
	    "redis: %s", r != NULL && r->str != NULL ? r->str : c->errstr);
	v = r->integer;
	freeReplyObject(r);
	redisFree(c);
	return (v);
}

/* Node i (named n<i+1>), with server lines extra, and its admin session. */
static void
node_start(struct fleet *f, int i, const char *extra)
{
	char	 conf[PATH_MAX + 2048], redis[PATH_MAX + 32];

	if (f->redis_port != 0)
		snprintf(redis, sizeof(redis), "127.0.0.1:%d", f->redis_port);
	else
		snprintf(redis, sizeof(redis), "%s", f->sock);
	snprintf(conf, sizeof(conf),
	    "[server]\nlisten = 127.0.0.1:0\nheartbeat_timeout = 30\n%s"
	    "[admin]\nlisten = 127.0.0.1:0\n"
	    "[log]\nsyslog = no\nlevel = debug\n"
	    "[cluster]\nredis = %s\nnode = n%d\n%s",
	    extra != NULL ? extra : "", redis, i + 1, f->redis_conf);
	f->n[i] = hbd_start(conf);
	node_link(f, i);
	f->a[i] = hbc_admin(f->n[i]);
}

/* Waits for node i's link to Redis to come up. */
static void
node_link(struct fleet *f, int i)
{
	hbd_expect_log(f->n[i], "link up", 5000 * hb_slow_factor());
}

/*
 * Redis (with redis_args) and three nodes (with server lines extra),
 * each of which has joined: every node counts the three.
 */
static void
fleet_up(struct fleet *f, const char *redis_args, const char *extra)
{
	long long	 deadline;
	int		 i;

	hb_scratch_dir(f->dir);
	if (snprintf(f->sock, sizeof(f->sock), "%s/redis.sock", f->dir) >=
	    (int)sizeof(f->sock))
		ck_abort_msg("path too long");
	redis_start(f, redis_args);
	for (i = 0; i < NNODES; i++)
		node_start(f, i, extra);
	deadline = hb_now_ms() + 5000 * hb_slow_factor();
	while (rnum(f, "ZCARD hb:nodes") != NNODES) {
		ck_assert_msg(hb_now_ms() < deadline, "nodes did not join");
		idle(f);
	}
	for (i = 0; i < NNODES; i++) {
		while (hbc_stat(f->a[i], "fleet_nodes") != NNODES) {
			ck_assert(hb_now_ms() < deadline);
			idle(f);
		}
	}
}

/* Stops every node still running (each must exit 0), then Redis. */
static void
fleet_down(struct fleet *f)
{
	int	 i;

	for (i = 0; i < NNODES; i++) {
		if (f->a[i] != NULL)
			hbc_close(f->a[i]);
		if (f->n[i] != NULL)
			ck_assert_int_eq(hbd_stop(f->n[i], SIGTERM), 0);
		f->n[i] = NULL;
		f->a[i] = NULL;
	}
	kill(f->redis, SIGKILL);
	hb_reap(f->redis, 5000);
}

/*
 * A client of node i that says HELLO name and gets its OK, once Redis
 * knows that node i holds the name: the node tells Redis as it answers,
 * not before.
 */
static struct hbc *
named(struct fleet *f, int i, const char *name)
{
	struct hbc	*c = hbc_connect(f->n[i]->port);
	char		 hello[128], node[16];
	const char	*line;
	redisReply	*r;
	long long	 deadline = hb_now_ms() + 5000 * hb_slow_factor();
	int		 known = 0;

	snprintf(hello, sizeof(hello), "HELLO %s", name);
	line = hbc_cmd(c, hello, tmo());
	ck_assert_msg(line != NULL, "%s on n%d: no answer", hello, i + 1);
	hb_assert_match(line, "^OK #[0-9]+$");
	snprintf(node, sizeof(node), "n%d ", i + 1);
	while (!known) {
		ck_assert_msg(hb_now_ms() < deadline, "%s not in Redis", name);
		r = rq(f, "HGET hb:names %s", name);
		known = r->type == REDIS_REPLY_STRING &&
		    strncmp(r->str, node, strlen(node)) == 0;
		freeReplyObject(r);
		if (!known)
			idle(f);
	}
	return (c);
}

/*
 * A fleet with two clients: "far" on n2, "near" on n1, whose admin
 * session the tests then use.
 */
static void
far_near(struct fleet *f, struct hbc **far, struct hbc **near)
{
	fleet_up(f, NULL, NULL);
	*far = named(f, 1, "far");
	*near = named(f, 0, "near");
}

/* Asserts that cmd is answered as re says within ms (scaled). */
static void
expect_unavailable(struct hbc *a, const char *cmd, const char *re, int ms)
{
	long long	 start = hb_now_ms(), took;
	const char	*line;

	line = hbc_cmd(a, cmd, ms * hb_slow_factor() + tmo());
	took = hb_now_ms() - start;
	ck_assert_msg(line != NULL, "%s: no answer", cmd);
	hb_assert_match(line, re);
	ck_assert_msg(took <= ms * hb_slow_factor() + 100, "%s: answered in "
	    "%lld ms", cmd, took);
}

/* Waits until SEND name from node i reaches the name's client. */
static void
wait_routed(struct fleet *f, int i, const char *name)
{
	long long	 deadline = hb_now_ms() + 10000 * hb_slow_factor();
	char		 cmd[128];
	const char	*line;

	snprintf(cmd, sizeof(cmd), "SEND %s ping", name);
	while ((line = hbc_cmd(f->a[i], cmd, tmo())) == NULL ||
	    strcmp(line, "OK 1") != 0) {
		ck_assert_msg(hb_now_ms() < deadline, "%s: %s", cmd, line);
		idle(f);
	}
}

/*
 * Waits until the stream holds node i's last event: a node sends its
 * events on, and the test must not read the stream before they are in.
 */
static void
wait_streamed(struct fleet *f, int i)
{
	long long	 deadline = hb_now_ms() + 5000 * hb_slow_factor();
	long long	 seq = hbc_stat(f->a[i], "seq");
	redisReply	*r, *e;
	char		 node[16];
	size_t		 k;
	int		 done = 0;

	snprintf(node, sizeof(node), "n%d", i + 1);
	while (!done) {
		ck_assert_msg(hb_now_ms() < deadline, "event %lld of %s not "
		    "in the stream", seq, node);
		r = rq(f, "XREVRANGE hb:events + - COUNT 50");
		for (k = 0; k < r->elements && !done; k++) {
			e = r->element[k]->element[1];
			done = strcmp(e->element[1]->str, node) == 0 &&
			    atoll(e->element[3]->str) == seq;
		}
		freeReplyObject(r);
		if (!done)
			idle(f);
	}
}

/*
 * SEND and KICK to a name held by another node reach it there, and the
 * answer is that node's, word for word; a name held nowhere, or gone,
 * is not found; #id stays on the node asked.
 */
START_TEST(test_fleet_route)
{
	struct fleet	 f = { 0 };
	struct hbc	*c1, *c3;

	fleet_up(&f, NULL, NULL);
	c1 = named(&f, 1, "dev-a");
	c3 = named(&f, 2, "dev-b");
	hbc_expect_cmd(f.a[0], "SEND dev-a hello there", "OK 1", tmo());
	hbc_expect(c1, "hello there", tmo());
	hbc_expect_cmd(f.a[2], "SEND dev-a again", "OK 1", tmo());
	hbc_expect(c1, "again", tmo());
	hbc_expect_cmd(f.a[0], "SEND dev-b x", "OK 1", tmo());
	hbc_expect(c3, "x", tmo());
	hbc_expect_cmd(f.a[0], "SEND nobody x", NOSUCH, tmo());
	hbc_expect_cmd(f.a[0], "SEND #1 x", NOSUCH, tmo());
	hbc_expect_cmd(f.a[1], "SEND #1 local", "OK 1", tmo());
	hbc_expect(c1, "local", tmo());
	hbc_expect_cmd(f.a[0], "SEND dev-a", "ERR syntax usage: SEND "
	    "<target> <message>", tmo());
	hbc_expect_cmd(f.a[2], "KICK dev-a", "OK", tmo());
	hbc_expect_bye(c1, "kicked", tmo());
	hbd_expect_log(f.n[1], "reason=kicked", tmo());
	hbc_expect_cmd(f.a[2], "KICK dev-a", NOSUCH, tmo());
	hbc_expect_cmd(f.a[0], "SEND dev-a x", NOSUCH, tmo());
	ck_assert_int_eq(hbc_stat(f.a[1], "kicked"), 1);
	ck_assert_int_eq(hbc_stat(f.a[0], "fleet_errors"), 0);
	hbc_close(c1);
	hbc_close(c3);
	fleet_down(&f);
}
END_TEST

/*
 * Pipelined commands routed to other nodes keep their order on the
 * session, behind and in front of local answers.
 */
START_TEST(test_fleet_pipeline)
{
	struct fleet	 f = { 0 };
	struct hbc	*c1, *c2;
	char		 cmd[64], want[64];
	int		 i;

	far_near(&f, &c1, &c2);
	hbc_send(f.a[0], "SEND far 1\nSEND near 2\nSEND nobody 3\n"
	    "STATS\n");
	hbc_expect(f.a[0], "OK 1", tmo());
	hbc_expect(f.a[0], "OK 1", tmo());
	hbc_expect(f.a[0], NOSUCH, tmo());
	hbc_expect(f.a[0], "STAT version " PACKAGE_VERSION, tmo());
	hbc_expect_prefix(f.a[0], "END", tmo());
	for (i = 0; i < 200; i++) {
		snprintf(cmd, sizeof(cmd), "SEND far m%d\n", i);
		hbc_send(f.a[0], cmd);
	}
	for (i = 0; i < 200; i++) {
		hbc_expect(f.a[0], "OK 1", tmo());
		snprintf(want, sizeof(want), "m%d", i);
		if (i == 0)
			hbc_expect(c1, "1", tmo());
		hbc_expect(c1, want, tmo());
	}
	hbc_close(c1);
	hbc_close(c2);
	fleet_down(&f);
}
END_TEST

/*
 * BROADCAST reaches every client of every node and answers the sum; the
 * word fleet makes SEND, KICK and LIST act on every node, which without
 * it act on the node asked.
 */
START_TEST(test_fleet_broadcast)
{
	struct fleet	 f = { 0 };
	struct hbc	*c[4];
	const char	*line;
	int		 i;

	fleet_up(&f, NULL, NULL);
	c[0] = named(&f, 0, "s-1");
	c[1] = named(&f, 0, "s-2");
	c[2] = named(&f, 1, "p-1");
	c[3] = hbc_connect(f.n[2]->port);
	hbc_expect_cmd(c[3], "PING", "PONG", tmo());
	hbc_expect_cmd(f.a[2], "BROADCAST to all", "OK 4", tmo());
	for (i = 0; i < 4; i++)
		hbc_expect(c[i], "to all", tmo());
	hbc_expect_cmd(f.a[1], "SEND fleet hi", "OK 4", tmo());
	for (i = 0; i < 4; i++)
		hbc_expect(c[i], "hi", tmo());
	hbc_expect_cmd(f.a[1], "SEND s-* local", "OK 0", tmo());
	hbc_expect_cmd(f.a[2], "KICK s-*", "OK 0", tmo());
	hbc_expect_cmd(f.a[2], "KICK fleet s-*", "OK 2", tmo());
	hbc_expect_bye(c[0], "kicked", tmo());
	hbc_expect_bye(c[1], "kicked", tmo());
	hbc_expect_cmd(f.a[2], "KICK fleet nothing-*", "OK 0", tmo());
	hbc_expect_cmd(f.a[0], "BROADCAST", "ERR syntax usage: BROADCAST "
	    "<message>", tmo());
	line = hbc_cmd(f.a[0], "LIST fleet", tmo());
	hb_assert_match(line, "^CLIENT #[0-9]+ name=(p-1|-) addr=127\\.0\\.0"
	    "\\.1:[0-9]+ age=[0-9.]+ idle=[0-9.]+ in=[0-9]+ out=[0-9]+ "
	    "timeout=30 gap_max=[0-9.]+ near=0 node=n[23]$");
	line = hbc_readline(f.a[0], tmo());
	hb_assert_match(line, "^CLIENT #[0-9]+ name=(p-1|-) .* node=n[23]$");
	hbc_expect(f.a[0], "END nodes=3/3", tmo());
	for (i = 0; i < 4; i++)
		hbc_close(c[i]);
	fleet_down(&f);
}
END_TEST

/*
 * LIST fleet with a selector: the lines of every node that match, with
 * node=, then END nodes=<answered>/<known>; LIST alone is the node's.
 */
START_TEST(test_fleet_list)
{
	struct fleet	 f = { 0 };
	struct hbc	*c[3];
	const char	*line;

	fleet_up(&f, NULL, NULL);
	c[0] = named(&f, 0, "a-1");
	c[1] = named(&f, 1, "a-2");
	c[2] = named(&f, 2, "b-1");
	line = hbc_cmd(f.a[1], "LIST fleet b-1", tmo());
	hb_assert_match(line, "^CLIENT #1 name=b-1 addr=127\\.0\\.0\\.1:"
	    "[0-9]+ .* node=n3$");
	hbc_expect(f.a[1], "END nodes=3/3", tmo());
	hbc_expect_cmd(f.a[1], "LIST fleet nothing", "END nodes=3/3", tmo());
	line = hbc_cmd(f.a[1], "LIST", tmo());
	hb_assert_match(line, "^CLIENT #1 name=a-2 .* near=0$");
	hb_assert_match(hbc_readline(f.a[1], tmo()), "^END seq=[0-9]+$");
	line = hbc_cmd(f.a[0], "LIST a-* fleet", tmo());
	hb_assert_match(line, "^CLIENT #1 name=a-[12] .* node=n[12]$");
	hb_assert_match(hbc_readline(f.a[0], tmo()),
	    "^CLIENT #1 name=a-[12] .* node=n[12]$");
	hbc_expect(f.a[0], "END nodes=3/3", tmo());
	hbc_close(c[0]);
	hbc_close(c[1]);
	hbc_close(c[2]);
	fleet_down(&f);
}
END_TEST

/*
 * duplicate_name = replace holds across nodes: a HELLO on one node
 * closes the holder on another with BYE replaced, and the name routes to
 * the new holder.
 */
START_TEST(test_fleet_replace)
{
	struct fleet	 f = { 0 };
	struct hbc	*old, *new;

	fleet_up(&f, NULL, NULL);
	old = named(&f, 0, "dup");
	new = named(&f, 1, "dup");
	hbc_expect_bye(old, "replaced", tmo());
	hbd_expect_log(f.n[0], "name=dup reason=replaced", tmo());
	hbc_expect_cmd(f.a[2], "SEND dup to-new", "OK 1", tmo());
	hbc_expect(new, "to-new", tmo());
	hbc_expect_cmd(f.a[0], "SEND dup from-old-node", "OK 1", tmo());
	hbc_expect(new, "from-old-node", tmo());
	ck_assert_int_eq(hbc_stat(f.a[0], "replaced"), 1);
	hbc_close(old);
	hbc_close(new);
	fleet_down(&f);
}
END_TEST

/*
 * duplicate_name = reject holds across nodes: a HELLO on another node is
 * answered ERR taken, in order with the lines after it, and the client
 * stays; once the holder leaves, the name is free.
 */
START_TEST(test_fleet_reject)
{
	struct fleet	 f = { 0 };
	struct hbc	*holder, *c;
	const char	*line;
	long long	 deadline;

	fleet_up(&f, NULL, "duplicate_name = reject\n");
	holder = named(&f, 0, "dup");
	c = hbc_connect(f.n[1]->port);
	hbc_send(c, "HELLO dup\nPING after\nHELLO other\n");
	hbc_expect(c, "ERR taken name in use", tmo());
	hbc_expect(c, "PONG after", tmo());
	hbc_expect(c, "OK #1", tmo());
	hbc_expect_cmd(c, "HELLO dup timeout=5", "ERR taken name in use",
	    tmo());
	hbc_expect_cmd(holder, "PING", "PONG", tmo());
	hbc_expect_cmd(f.a[2], "SEND dup still", "OK 1", tmo());
	hbc_expect(holder, "still", tmo());
	hbc_expect_cmd(holder, "QUIT", "BYE quit", tmo());
	hbd_expect_log(f.n[0], "reason=quit", tmo());
	/* n1 tells Redis after its log line: the name is free soon after. */
	deadline = hb_now_ms() + 5000 * hb_slow_factor();
	while ((line = hbc_cmd(c, "HELLO dup", tmo())) == NULL ||
	    strcmp(line, "OK #1") != 0) {
		ck_assert_str_eq(line, "ERR taken name in use");
		ck_assert(hb_now_ms() < deadline);
		idle(&f);
	}
	hbc_expect_cmd(f.a[0], "SEND dup moved", "OK 1", tmo());
	hbc_expect(c, "moved", tmo());
	ck_assert_int_eq(hbc_stat(f.a[0], "replaced"), 0);
	hbc_close(holder);
	hbc_close(c);
	fleet_down(&f);
}
END_TEST

/*
 * Every node appends its events to <prefix>events with the fields node,
 * seq and event, as WATCH shows them; XREAD follows the whole fleet.
 */
START_TEST(test_fleet_stream)
{
	struct fleet	 f = { 0 };
	struct hbc	*c;
	redisReply	*r, *all, *e;
	char		 want[3][128];
	size_t		 i, k, found = 0;

	fleet_up(&f, NULL, NULL);
	c = named(&f, 1, "streamer");
	hbc_send(c, "data line\n");
	hbc_expect_cmd(c, "QUIT", "BYE quit", tmo());
	hbd_expect_log(f.n[1], "reason=quit", tmo());
	snprintf(want[0], sizeof(want[0]), "hello #1 name=streamer");
	snprintf(want[1], sizeof(want[1]), "data #1 data line");
	snprintf(want[2], sizeof(want[2]), "disconnect #1 addr=127.0.0.1:%d "
	    "name=streamer reason=quit", hbc_local_port(c));
	hbc_close(c);
	wait_streamed(&f, 1);
	r = rq(&f, "XREAD COUNT 100 STREAMS hb:events 0");
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_str_eq(r->element[0]->element[0]->str, "hb:events");
	all = r->element[0]->element[1];
	for (i = 0; i < all->elements; i++) {
		e = all->element[i]->element[1];
		ck_assert_int_eq(e->elements, 6);
		ck_assert_str_eq(e->element[0]->str, "node");
		ck_assert_str_eq(e->element[2]->str, "seq");
		ck_assert_str_eq(e->element[4]->str, "event");
		if (strcmp(e->element[1]->str, "n2") != 0)
			continue;
		for (k = 0; k < 3; k++) {
			if (strncmp(e->element[5]->str, want[k],
			    strlen(want[k])) == 0) {
				ck_assert_uint_eq(found, k);
				ck_assert_str_eq(e->element[3]->str,
				    k == 0 ? "2" : k == 1 ? "3" : "4");
				found++;
			}
		}
	}
	ck_assert_uint_eq(found, 3);
	freeReplyObject(r);
	fleet_down(&f);
}
END_TEST

/* events_max trims the stream, about: Redis trims whole macro nodes. */
START_TEST(test_fleet_stream_trim)
{
	struct fleet	 f = { 0 };
	struct hbc	*c;
	long long	 n;
	int		 i;

	snprintf(f.redis_conf, sizeof(f.redis_conf), "events_max = 100\n");
	fleet_up(&f, "--stream-node-max-entries 10", NULL);
	c = named(&f, 0, "chatty");
	for (i = 0; i < 500; i++)
		hbc_send(c, "data\n");
	hbc_expect_cmd(c, "PING", "PONG", tmo());
	wait_streamed(&f, 0);
	n = rnum(&f, "XLEN hb:events");
	ck_assert_msg(n >= 100 && n <= 110, "%lld entries", n);
	hbc_close(c);
	fleet_down(&f);
}
END_TEST

/*
 * Redis killed: every node serves its own clients (PONGs, a local SEND),
 * and anything that needs another node answers ERR unavailable at once;
 * STATS says so. Redis back: each node re-registers its clients, and
 * routing works again.
 */
START_TEST(test_fleet_redis_killed)
{
	struct fleet	 f = { 0 };
	struct hbc	*far, *near;
	static const char *const cmds[] = { "SEND far x", "BROADCAST x",
	    "LIST fleet", "KICK far", "KICK fleet far" };
	int		 i;

	far_near(&f, &far, &near);
	hbc_expect_cmd(f.a[0], "SEND far x", "OK 1", tmo());
	hbc_expect(far, "x", tmo());
	kill(f.redis, SIGKILL);
	ck_assert_int_eq(hb_reap(f.redis, 5000), 128 + SIGKILL);
	hbd_expect_log(f.n[0], "redis ", tmo());
	for (i = 0; i < (int)nitems(cmds); i++)
		expect_unavailable(f.a[0], cmds[i], "^ERR unavailable redis: "
		    ".+", 1000);
	for (i = 0; i < 3; i++) {
		hbc_expect_cmd(near, "PING a", "PONG a", tmo());
		hbc_expect_cmd(far, "PING b", "PONG b", tmo());
	}
	hbc_expect_cmd(f.a[0], "SEND near local", "OK 1", tmo());
	hbc_expect(near, "local", tmo());
	ck_assert_int_eq(hbc_stat(f.a[0], "fleet_nodes"), 0);
	ck_assert_int_ge(hbc_stat(f.a[0], "fleet_errors"), nitems(cmds));

	redis_start(&f, NULL);
	for (i = 0; i < NNODES; i++)
		node_link(&f, i);
	wait_routed(&f, 0, "far");
	hbc_expect(far, "ping", tmo());
	wait_routed(&f, 1, "near");
	hbc_expect(near, "ping", tmo());
	ck_assert_int_eq(rnum(&f, "HLEN hb:names"), 2);
	hbc_close(far);
	hbc_close(near);
	fleet_down(&f);
}
END_TEST

/*
 * Redis stopped (SIGSTOP): it takes connections and commands but answers
 * none, and still every fleet operation is answered within the deadline.
 */
START_TEST(test_fleet_redis_stuck)
{
	struct fleet	 f = { 0 };
	struct hbc	*far, *near;
	const char	*line;

	far_near(&f, &far, &near);
	kill(f.redis, SIGSTOP);
	hbc_send(f.a[0], "SEND far x\nSEND near y\n");
	line = hbc_readline(f.a[0], 1000 * hb_slow_factor() + tmo());
	ck_assert_ptr_nonnull(line);
	hb_assert_match(line, "^ERR unavailable ");
	hbc_expect(f.a[0], "OK 1", 300 * hb_slow_factor());
	hbc_expect(near, "y", tmo());
	hbc_expect_cmd(near, "PING", "PONG", tmo());
	expect_unavailable(f.a[2], "LIST fleet", "^ERR unavailable .+", 1000);
	expect_unavailable(f.a[1], "BROADCAST x", "^ERR unavailable .+",
	    1000);
	kill(f.redis, SIGCONT);
	wait_routed(&f, 0, "far");
	hbc_close(far);
	hbc_close(near);
	fleet_down(&f);
}
END_TEST

/* Scripts flushed from Redis come back within a beat or so. */
START_TEST(test_fleet_script_flush)
{
	struct fleet	 f = { 0 };
	struct hbc	*far, *near;
	redisReply	*r;

	far_near(&f, &far, &near);
	r = rq(&f, "SCRIPT FLUSH");
	freeReplyObject(r);
	wait_routed(&f, 0, "far");
	hbc_expect(far, "ping", tmo());
	hbc_close(far);
	hbc_close(near);
	fleet_down(&f);
}
END_TEST

/*
 * A node killed with SIGKILL leaves the fleet within 15 s: its names are
 * gone from Redis, and the others no longer count it.
 */
START_TEST(test_fleet_node_killed)
{
	struct fleet	 f = { 0 };
	struct hbc	*c, *other;
	long long	 start, deadline;

	fleet_up(&f, NULL, NULL);
	c = named(&f, 1, "doomed");
	other = named(&f, 2, "survivor");
	ck_assert_int_eq(rnum(&f, "HEXISTS hb:names doomed"), 1);
	start = hb_now_ms();
	ck_assert_int_eq(hbd_stop(f.n[1], SIGKILL), 128 + SIGKILL);
	f.n[1] = NULL;
	hbc_close(f.a[1]);
	f.a[1] = NULL;
	deadline = start + 15000;
	while (rnum(&f, "HEXISTS hb:names doomed") != 0) {
		ck_assert_msg(hb_now_ms() < deadline, "still there after "
		    "15 s");
		idle(&f);
	}
	ck_assert_int_ge(hb_now_ms() - start, DEAD_MS - 1000);
	ck_assert_int_eq(rnum(&f, "EXISTS hb:node:n2"), 0);
	ck_assert_int_eq(rnum(&f, "HEXISTS hb:names survivor"), 1);
	hbc_expect_cmd(f.a[0], "SEND doomed x", NOSUCH, tmo());
	hbc_expect_cmd(f.a[0], "LIST fleet doomed", "END nodes=2/2", tmo());
	while (hbc_stat(f.a[0], "fleet_nodes") != 2) {
		ck_assert(hb_now_ms() < deadline + tmo());
		idle(&f);
	}
	hbc_close(c);
	hbc_close(other);
	fleet_down(&f);
}
END_TEST

/* A clean stop takes the node's names out of Redis at once. */
START_TEST(test_fleet_node_stopped)
{
	struct fleet	 f = { 0 };
	struct hbc	*c;

	fleet_up(&f, NULL, NULL);
	c = named(&f, 1, "leaver");
	hbc_expect_cmd(f.a[0], "SEND leaver x", "OK 1", tmo());
	hbc_close(f.a[1]);
	f.a[1] = NULL;
	ck_assert_int_eq(hbd_stop(f.n[1], SIGTERM), 0);
	f.n[1] = NULL;
	ck_assert_int_eq(rnum(&f, "HEXISTS hb:names leaver"), 0);
	ck_assert_int_eq(rnum(&f, "ZCARD hb:nodes"), 2);
	hbc_expect_cmd(f.a[0], "SEND leaver x", NOSUCH, tmo());
	hbc_close(c);
	fleet_down(&f);
}
END_TEST

/*
 * Redis on a loopback port with a password for an ACL user: the nodes
 * authenticate; a node with a wrong password serves alone and answers
 * ERR unavailable with Redis's reason.
 */
START_TEST(test_fleet_password)
{
	struct fleet	 f = { 0 };
	struct hbc	*c, *a;
	struct hbd	*bad;
	char		 conf[1024];
	int		 fd;

	f.redis_port = hb_reserve_port(&fd);
	close(fd);
	snprintf(f.redis_conf, sizeof(f.redis_conf), "password = hb:sesame\n");
	fleet_up(&f, "--requirepass sesame --user hb on >sesame ~* &* +@all",
	    NULL);
	c = named(&f, 2, "secret");
	hbc_expect_cmd(f.a[0], "SEND secret x", "OK 1", tmo());
	hbc_expect(c, "x", tmo());
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:0\n"
	    "[admin]\nlisten = 127.0.0.1:0\n[log]\nsyslog = no\n"
	    "[cluster]\nredis = 127.0.0.1:%d\nnode = bad\n"
	    "password = hb:wrong\n", f.redis_port);
	bad = hbd_start(conf);
	hbd_expect_log(bad, "WRONGPASS", 5000 * hb_slow_factor());
	a = hbc_admin(bad);
	hb_assert_match(hbc_cmd(a, "SEND secret x", tmo()),
	    "^ERR unavailable redis: WRONGPASS ");
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(bad, SIGTERM), 0);
	hbc_close(c);
	fleet_down(&f);
}
END_TEST

/* PUSH on node i, answered "OK <id>": the id. */
static unsigned long long
push(struct fleet *f, int i, const char *name, const char *msg)
{
	char		 cmd[256];
	const char	*line;

	snprintf(cmd, sizeof(cmd), "PUSH %s 0 %s", name, msg);
	line = hbc_cmd(f->a[i], cmd, tmo());
	hb_assert_match(line, "^OK [0-9]+$");
	return (strtoull(line + 3, NULL, 10));
}

/* Asserts that c's next line is "MSG <id> <msg>". */
static void
expect_msg(struct hbc *c, unsigned long long id, const char *msg)
{
	char	 want[256];

	snprintf(want, sizeof(want), "MSG %llu %s", id, msg);
	hbc_expect(c, want, tmo());
}

/*
 * A push to a device that moves: pushed while it is offline, through any
 * node, delivered where it comes online, again (same id) where it comes
 * back unacknowledged, gone once acknowledged; a push to a device online
 * at another node reaches it there; PUSHES asks the node that has them.
 */
START_TEST(test_fleet_push_moves)
{
	struct fleet		 f = { 0 };
	struct hbc		*c;
	unsigned long long	 id1, id2, id3;
	char			 key[64];
	long long		 deadline;

	fleet_up(&f, NULL, NULL);
	id1 = push(&f, 0, "dev", "first");
	id2 = push(&f, 2, "dev", "second");
	ck_assert_uint_gt(id2, 0);
	ck_assert_uint_ne(id1, id2);
	hb_assert_match(hbc_cmd(f.a[1], "PUSHES dev", tmo()), "^PUSH id=[0-9]+ "
	    "age=[0-9.]+ ttl=86400\\.0 tries=0 first$");
	hb_assert_match(hbc_readline(f.a[1], tmo()),
	    "^PUSH id=[0-9]+ .* second$");
	hbc_expect(f.a[1], "END", tmo());
	c = hbc_connect(f.n[1]->port);
	hbc_expect_cmd(c, "HELLO dev", "OK #1", tmo());
	expect_msg(c, id1, "first");
	expect_msg(c, id2, "second");
	hbc_close(c);
	hbd_expect_log(f.n[1], "name=dev reason=closed", tmo());

	c = hbc_connect(f.n[2]->port);
	hbc_expect_cmd(c, "HELLO dev", "OK #1", tmo());
	expect_msg(c, id1, "first");
	expect_msg(c, id2, "second");
	snprintf(key, sizeof(key), "ACK %llu\nACK %llu\n", id1, id2);
	hbc_send(c, key);
	hbc_expect_cmd(c, "PING", "PONG", tmo());
	hbc_expect_cmd(f.a[0], "PUSHES dev", "END", tmo());
	deadline = hb_now_ms() + 5000 * hb_slow_factor();
	while (rnum(&f, "EXISTS hb:pushq:dev") != 0) {
		ck_assert(hb_now_ms() < deadline);
		idle(&f);
	}
	snprintf(key, sizeof(key), "EXISTS hb:push:%llu", id1);
	ck_assert_int_eq(rnum(&f, key), 0);

	id3 = push(&f, 0, "dev", "third");
	expect_msg(c, id3, "third");
	ck_assert_int_eq(hbc_stat(f.a[2], "pushes_pending"), 1);
	ck_assert_int_eq(hbc_stat(f.a[0], "pushes_pending"), 0);
	hbc_close(c);
	fleet_down(&f);
}
END_TEST

/*
 * The node holding a device's pushes dies: they wait in Redis, and the
 * node where the device comes online delivers them.
 */
START_TEST(test_fleet_push_holder_killed)
{
	struct fleet		 f = { 0 };
	struct hbc		*c;
	unsigned long long	 id;

	fleet_up(&f, NULL, NULL);
	id = push(&f, 0, "lone", "kept in redis");
	hbc_close(f.a[0]);
	f.a[0] = NULL;
	ck_assert_int_eq(hbd_stop(f.n[0], SIGKILL), 128 + SIGKILL);
	f.n[0] = NULL;
	c = hbc_connect(f.n[1]->port);
	hbc_expect_cmd(c, "HELLO lone", "OK #1", tmo());
	expect_msg(c, id, "kept in redis");
	hbc_close(c);
	fleet_down(&f);
}
END_TEST

/*
 * SEEN in a fleet: a name online at another node as that node has it, an
 * offline one as Redis has it, wherever it was seen.
 */
START_TEST(test_fleet_seen)
{
	struct fleet	 f = { 0 };
	struct hbc	*c;
	const char	*line;
	char		 re[256];
	long long	 deadline;

	fleet_up(&f, NULL, NULL);
	c = named(&f, 1, "seen-a");
	snprintf(re, sizeof(re), "^SEEN seen-a state=online addr=127\\.0\\.0"
	    "\\.1:%d since=[0-9T:Z-]+ for=[0-9]+ last_seen=[0-9T:Z-]+ "
	    "reason=- sessions=1$", hbc_local_port(c));
	hb_assert_match(hbc_cmd(f.a[0], "SEEN seen-a", tmo()), re);
	snprintf(re, sizeof(re), "^SEEN seen-a state=offline addr=127\\.0\\.0"
	    "\\.1:%d since=[0-9T:Z-]+ for=[0-9]+ last_seen=[0-9T:Z-]+ "
	    "reason=closed sessions=1$", hbc_local_port(c));
	hbc_close(c);
	hbd_expect_log(f.n[1], "name=seen-a reason=closed", tmo());
	deadline = hb_now_ms() + 5000 * hb_slow_factor();
	while ((line = hbc_cmd(f.a[2], "SEEN seen-a", tmo())) != NULL &&
	    strstr(line, "state=online") != NULL) {
		ck_assert(hb_now_ms() < deadline);
		idle(&f);
	}
	hb_assert_match(line, re);
	hbc_expect_cmd(f.a[2], "SEEN nobody", "ERR notfound never seen", tmo());
	fleet_down(&f);
}
END_TEST

/* Only events_max may change on a reload. */
START_TEST(test_fleet_reload)
{
	struct fleet	 f = { 0 };
	FILE		*fp;

	fleet_up(&f, NULL, NULL);
	ck_assert_ptr_nonnull(fp = fopen(f.n[0]->conf, "a"));
	fprintf(fp, "events_max = 5\n");
	fclose(fp);
	hbc_expect_cmd(f.a[0], "RELOAD", "OK changed=cluster.events_max",
	    tmo());
	ck_assert_ptr_nonnull(fp = fopen(f.n[0]->conf, "a"));
	fprintf(fp, "prefix = other:\n");
	fclose(fp);
	hbc_expect_cmd(f.a[0], "RELOAD", "ERR config cluster.prefix cannot "
	    "change on reload", tmo());
	fleet_down(&f);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	if (system("command -v redis-server >/dev/null 2>&1") != 0) {
		printf("redis-server is not installed\n");
		return (NULL);
	}
	s = suite_create("fleet");
	tc = tcase_create("route");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fleet_route);
	tcase_add_test(tc, test_fleet_pipeline);
	tcase_add_test(tc, test_fleet_broadcast);
	tcase_add_test(tc, test_fleet_list);
	suite_add_tcase(s, tc);
	tc = tcase_create("duplicate");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fleet_replace);
	tcase_add_test(tc, test_fleet_reject);
	suite_add_tcase(s, tc);
	tc = tcase_create("stream");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fleet_stream);
	tcase_add_test(tc, test_fleet_stream_trim);
	suite_add_tcase(s, tc);
	tc = tcase_create("outage");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_fleet_redis_killed);
	tcase_add_test(tc, test_fleet_redis_stuck);
	tcase_add_test(tc, test_fleet_script_flush);
	tcase_add_test(tc, test_fleet_node_killed);
	tcase_add_test(tc, test_fleet_node_stopped);
	suite_add_tcase(s, tc);
	tc = tcase_create("push");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fleet_push_moves);
	tcase_add_test(tc, test_fleet_push_holder_killed);
	tcase_add_test(tc, test_fleet_seen);
	suite_add_tcase(s, tc);
	tc = tcase_create("config");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fleet_password);
	tcase_add_test(tc, test_fleet_reload);
	suite_add_tcase(s, tc);
	return (s);
}
