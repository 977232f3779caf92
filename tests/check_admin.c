/*
 * Integration tests for the admin protocol (SPEC §4): the real daemon,
 * driven over its TCP admin port and its Unix admin socket. Tests added
 * with add_case(..., BOTH) run once per transport: _i is 0 for TCP and 1
 * for the Unix socket.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define TMO		2000	/* ms to wait for any one answer */
#define BOTH		2	/* add_case: _i 0 is TCP, _i 1 Unix */
#define TCP_ONLY	1
#define MAXCL		8	/* clients #1..#MAXCL a test may hold */
#define NPIPE		1000	/* SENDs in one write */
#define BIG		4000	/* message bytes in the overflow tests */
#define OVERFLOW_CONF	"max_line = 4000\nsend_buffer_limit = 4096\n"
#define NOSUCH		"ERR notfound no such client"

/* The admin listens on TCP and on a Unix socket in every test. */
#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 30\n"					\
	"%s"								\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"socket = @DIR@/admin.sock\n"					\
	"%s"								\
	"[log]\n"							\
	"syslog = no\n"

#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* One parsed LIST line. */
struct row {
	int		 id;
	char		 name[80];
	char		 addr[80];
	double		 age;
	double		 idle;
	long long	 in;
	long long	 out;
	double		 timeout;
	double		 gap_max;
	long long	 near;
};

/* How SEND and BROADCAST answer while they overflow client #1. */
struct overflow {
	const char	*prefix;	/* the command before the message */
	const char	*ok;		/* the answer while #1 keeps up */
	const char	*last;		/* the answer that drops #1 */
	int		 fast;		/* a client #2 that reads: 0 or 1 */
};

/* One row of a table of admin commands and their exact answers. */
struct exchange {
	const char	*cmd;
	const char	*answer;
};

static const char *stat_keys[] = {
	"version", "uptime", "clients", "clients_peak", "accepted",
	"rejected", "disconnects", "timeouts", "kicked", "replaced",
	"overflows", "pings", "data_lines", "messages_sent", "bytes_in",
	"bytes_out", "log_dropped", "seq", "accept_pauses", "auth_failures",
	"handshake_failures", "proxy_failures", "flapping", "pushes_queued",
	"pushes_acked", "pushes_expired", "pushes_pending"
};
#define NSTATS	NITEMS(stat_keys)

static const struct overflow overflows[] = {
	{ "SEND #1 ", "OK 1", "ERR overflow client dropped", 0 },
	{ "BROADCAST ", "OK 2", "OK 1", 1 },
	{ "SEND @127.0.0.0/8 ", "OK 2", "OK 1", 1 },
};

/* The running test's daemon, admin session and clients. */
static struct hbd	*hd;
static struct hbc	*adm;
static struct hbc	*cl[MAXCL + 1];		/* cl[n] is #n, or NULL */

static void		 setup(int, const char *, const char *, int);
static void		 teardown(void);
static struct hbc	*admin_open(int);
static struct hbc	*join(int);
static void		 drop(int);
static void		 hello(int, const char *);
static int		 local_port(struct hbc *);
static void		 expect_answer(const char *, const char *);
static void		 expect_delivery(const char *, int, const char *);
static char		*long_send(char *, size_t);
static void		 run_exchanges(const struct exchange *, int);
static void		 expect_block(const char *);
static double		 onedec(const char *, const char *);
static void		 read_row(struct row *);
static void		 expect_row(int, const char *, long long, long long);
static void		 expect_list(const int *, int, int);
static void		 stats_read(long long *);
static void		 stats_check(const char *, const char *);
static void		 expect_gone(int, const char *);
static void		 expect_kicked(int);
static void		 slow_client(int);
static char		*big_command(const char *);
static int		 repeat_until(const char *, const char *, struct hbc *,
			    const char **);
static void		 add_case(Suite *, const char *, const TTest *, int);

/*
 * Starts the daemon with extra [server] and [admin] lines, opens an admin
 * session on transport t (0 TCP, 1 Unix) and joins clients #1..#n.
 */
static void
setup(int t, const char *server, const char *admin, int n)
{
	char	conf[2048];
	int	i;

	snprintf(conf, sizeof(conf), CONF_FMT, server, admin);
	hd = hbd_start(conf);
	adm = admin_open(t);
	for (i = 1; i <= n; i++)
		join(i);
}

/* Closes what is still open and stops the daemon, which must exit 0. */
static void
teardown(void)
{
	int	i;

	for (i = 1; i <= MAXCL; i++)
		if (cl[i] != NULL)
			drop(i);
	if (adm != NULL)
		hbc_close(adm);
	adm = NULL;
	ck_assert_int_eq(hbd_stop(hd, SIGTERM), 0);
	hd = NULL;
}

/* An admin session on the TCP port (t 0) or the Unix socket (t 1). */
static struct hbc *
admin_open(int t)
{
	if (t)
		return (hbc_connect_unix(hd->admin_sock));
	return (hbc_admin(hd));
}

/* Connects client #id and waits until the daemon has logged it. */
static struct hbc *
join(int id)
{
	char	want[32];

	ck_assert(id >= 1 && id <= MAXCL && cl[id] == NULL);
	cl[id] = hbc_connect(hd->port);
	snprintf(want, sizeof(want), "connect #%d ", id);
	hbd_expect_log(hd, want, TMO);
	return (cl[id]);
}

static void
drop(int id)
{
	hbc_close(cl[id]);
	cl[id] = NULL;
}

/* Client #id says HELLO name and gets OK #id. */
static void
hello(int id, const char *name)
{
	char	buf[128];

	snprintf(buf, sizeof(buf), "HELLO %s\n", name);
	hbc_send(cl[id], buf);
	snprintf(buf, sizeof(buf), "OK #%d", id);
	hbc_expect(cl[id], buf, TMO);
}

/* The local port of c, as the daemon sees it in addr=. */
static int
local_port(struct hbc *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

/* Sends cmd on the admin session and asserts its one-line answer. */
static void
expect_answer(const char *cmd, const char *want)
{
	hbc_expect_cmd(adm, cmd, want, TMO);
}

/* SEND target msg is "OK 1" and client #id receives msg. */
static void
expect_delivery(const char *target, int id, const char *msg)
{
	char	cmd[256];

	snprintf(cmd, sizeof(cmd), "SEND %s %s", target, msg);
	expect_answer(cmd, "OK 1");
	hbc_expect(cl[id], msg, TMO);
}

/* Fills buf with "SEND #1 xxx...", len bytes in all, and returns it. */
static char *
long_send(char *buf, size_t len)
{
	memcpy(buf, "SEND #1 ", 8);
	memset(buf + 8, 'x', len - 8);
	buf[len] = '\0';
	return (buf);
}

static void
run_exchanges(const struct exchange *x, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		expect_answer(x[i].cmd, x[i].answer);
}

/*
 * Sends cmd and reads its multi-line answer up to END; asserts that the
 * answer has at least one line before END and no ERR.
 */
static void
expect_block(const char *cmd)
{
	const char	*line;
	int		 n = 0;

	hbc_send(adm, cmd);
	hbc_send(adm, "\n");
	while ((line = hbc_readline(adm, TMO)) != NULL &&
	    strcmp(line, "END") != 0) {
		ck_assert_msg(strncmp(line, "ERR", 3) != 0,
		    "%s: got %s", cmd, line);
		n++;
	}
	ck_assert_msg(line != NULL, "%s: no END", cmd);
	ck_assert_msg(n > 0, "%s: empty answer", cmd);
}

/* Parses s as digits, a dot and one digit (line is for the message). */
static double
onedec(const char *s, const char *line)
{
	size_t	n;

	n = strspn(s, "0123456789");
	ck_assert_msg(n > 0 && s[n] == '.' && isdigit((unsigned char)s[n + 1])
	    && s[n + 2] == '\0', "not one decimal: \"%s\" in: %s", s, line);
	return (strtod(s, NULL));
}

/* Reads one LIST line into r; fails unless it has the exact form. */
static void
read_row(struct row *r)
{
	const char	*line;
	char		 age[32], idle[32], tmo[32], gap[32], again[512];
	int		 n;

	line = hbc_readline(adm, TMO);
	ck_assert_msg(line != NULL, "LIST: no line");
	n = sscanf(line, "CLIENT #%d name=%79s addr=%79s age=%31s idle=%31s "
	    "in=%lld out=%lld timeout=%31s gap_max=%31s near=%lld", &r->id,
	    r->name, r->addr, age, idle, &r->in, &r->out, tmo, gap, &r->near);
	ck_assert_msg(n == 10, "bad LIST line: %s", line);
	/* Rebuilding the line catches stray spaces, signs and zeros. */
	snprintf(again, sizeof(again), "CLIENT #%d name=%s addr=%s age=%s "
	    "idle=%s in=%lld out=%lld timeout=%s gap_max=%s near=%lld", r->id,
	    r->name, r->addr, age, idle, r->in, r->out, tmo, gap, r->near);
	ck_assert_str_eq(line, again);
	r->age = onedec(age, line);
	r->idle = onedec(idle, line);
	r->timeout = strtod(tmo, NULL);
	r->gap_max = onedec(gap, line);
}

/*
 * Reads one LIST line and asserts that it is client #id (at its
 * 127.0.0.1 port) with that name and byte counts; age and idle must be
 * plausible for a client under 2 s old.
 */
static void
expect_row(int id, const char *name, long long in, long long out)
{
	struct row	r;
	char		addr[80];

	read_row(&r);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", local_port(cl[id]));
	ck_assert_int_eq(r.id, id);
	ck_assert_str_eq(r.name, name);
	ck_assert_str_eq(r.addr, addr);
	ck_assert_int_eq(r.in, in);
	ck_assert_int_eq(r.out, out);
	ck_assert_msg(r.age >= 0 && r.age < 2.0, "age=%.1f", r.age);
	ck_assert_msg(r.idle >= 0 && r.idle <= r.age + 0.1,
	    "idle=%.1f age=%.1f", r.idle, r.age);
}

/* Sends LIST and asserts the ids, in order, and the END seq. */
static void
expect_list(const int *ids, int n, int seq)
{
	struct row	r;
	char		end[32];
	int		i;

	hbc_send(adm, "LIST\n");
	for (i = 0; i < n; i++) {
		read_row(&r);
		ck_assert_int_eq(r.id, ids[i]);
	}
	snprintf(end, sizeof(end), "END seq=%d", seq);
	hbc_expect(adm, end, TMO);
}

/* Reads a STATS answer: every key in SPEC order, then END, into v. */
static void
stats_read(long long *v)
{
	const char	*line, *val;
	char		 want[64];
	size_t		 n;
	int		 i;

	for (i = 0; i < NSTATS; i++) {
		line = hbc_readline(adm, TMO);
		ck_assert_msg(line != NULL, "STATS: no %s line", stat_keys[i]);
		n = snprintf(want, sizeof(want), "STAT %s ", stat_keys[i]);
		ck_assert_msg(strncmp(line, want, n) == 0,
		    "STATS: want \"%s...\", got \"%s\"", want, line);
		val = line + n;
		v[i] = 0;
		if (i == 0) {
			ck_assert_str_eq(val, "0.1.0");
			continue;
		}
		ck_assert_msg(val[0] != '\0' &&
		    strspn(val, "0123456789") == strlen(val),
		    "STATS: not a count: %s", line);
		v[i] = strtoll(val, NULL, 10);
	}
	hbc_expect(adm, "END", TMO);
}

/*
 * Sends cmd (unless NULL: already sent), reads the STATS answer and
 * asserts every "key=value" of the space-separated want.
 */
static void
stats_check(const char *cmd, const char *want)
{
	long long	 v[NSTATS];
	char		*copy, *p, *w, *eq;
	int		 i;

	if (cmd != NULL) {
		hbc_send(adm, cmd);
		hbc_send(adm, "\n");
	}
	stats_read(v);
	p = copy = strdup(want);
	ck_assert_ptr_nonnull(copy);
	while ((w = strsep(&p, " ")) != NULL) {
		eq = strchr(w, '=');
		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		for (i = 0; i < NSTATS; i++)
			if (strcmp(stat_keys[i], w) == 0)
				break;
		ck_assert_msg(i < NSTATS, "no STAT %s", w);
		ck_assert_msg(v[i] == strtoll(eq + 1, NULL, 10),
		    "STAT %s: want %s, got %lld", w, eq + 1, v[i]);
	}
	free(copy);
}

/* Waits for the disconnect line of client #id and checks its reason. */
static void
expect_gone(int id, const char *reason)
{
	const char	*line;
	char		 want[32];

	snprintf(want, sizeof(want), "disconnect #%d ", id);
	line = hbd_expect_log(hd, want, TMO);
	snprintf(want, sizeof(want), " reason=%s ", reason);
	ck_assert_msg(strstr(line, want) != NULL, "want%s: %s", want, line);
}

/* Client #id got BYE kicked then EOF, and the log says reason=kicked. */
static void
expect_kicked(int id)
{
	hbc_expect(cl[id], "BYE kicked", TMO);
	hbc_expect_closed(cl[id], TMO);
	expect_gone(id, "kicked");
	drop(id);
}

/* Joins client #id with a small receive buffer; the test never reads it. */
static void
slow_client(int id)
{
	int	small = 4096;

	join(id);
	/* Keep the kernel's share small so that the daemon's fills soon. */
	ck_assert_int_eq(setsockopt(cl[id]->fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
}

/* prefix, then a message of BIG bytes, then "\n" (malloc'd). */
static char *
big_command(const char *prefix)
{
	char	*cmd;
	size_t	 n = strlen(prefix);

	cmd = malloc(n + BIG + 2);
	ck_assert_ptr_nonnull(cmd);
	memcpy(cmd, prefix, n);
	memset(cmd + n, 'm', BIG);
	memcpy(cmd + n + BIG, "\n", 2);
	return (cmd);
}

/*
 * Sends cmd until its answer is not ok (within 15 s), reading one line on
 * reader after each if it is not NULL. Returns how many answers were ok,
 * with the other one in *last.
 */
static int
repeat_until(const char *cmd, const char *ok, struct hbc *reader,
    const char **last)
{
	const char	*line;
	long long	 deadline;
	int		 n = 0;

	deadline = hb_now_ms() + 15000;
	for (;;) {
		hbc_send(adm, cmd);
		line = hbc_readline(adm, TMO);
		ck_assert_msg(line != NULL, "command %d: no answer", n + 1);
		if (strcmp(line, ok) != 0)
			break;
		n++;
		ck_assert_msg(hb_now_ms() < deadline, "still %s after %d", ok,
		    n);
		if (reader != NULL) {
			line = hbc_readline(reader, TMO);
			ck_assert_msg(line != NULL && strlen(line) == BIG,
			    "reader: message %d", n);
		}
	}
	*last = line;
	return (n);
}

START_TEST(test_admin_list_empty)
{
	setup(_i, "", "", 0);
	expect_answer("LIST", "END seq=0");
	teardown();
}
END_TEST

/* Rows are oldest first, named and unnamed, with exact byte counts. */
START_TEST(test_admin_list_rows)
{
	setup(_i, "", "", 3);
	/* A name sorting after "-" and after #3's must not move #1. */
	hello(1, "zeta");			/* 11 in, 6 out */
	hbc_send(cl[2], "some data\nPING\n");		/* 15 in */
	hbc_expect(cl[2], "PONG", TMO);			/* 5 out */
	hello(3, "alpha");			/* 12 in, 6 out */
	hbc_send(adm, "LIST\n");
	expect_row(1, "zeta", 11, 6);
	expect_row(2, "-", 15, 5);
	expect_row(3, "alpha", 12, 6);
	/* connect x3, hello x2, one data line; PING is not an event. */
	hbc_expect(adm, "END seq=6", TMO);

	drop(2);
	expect_gone(2, "closed");
	join(4);
	hbc_send(adm, "LIST\n");
	expect_row(1, "zeta", 11, 6);
	expect_row(3, "alpha", 12, 6);
	expect_row(4, "-", 0, 0);
	hbc_expect(adm, "END seq=8", TMO);
	teardown();
}
END_TEST

/* Each kind of event moves END seq=<n> by exactly one; PING does not. */
START_TEST(test_admin_list_seq)
{
	const int	 one[] = { 1 };
	struct hbc	*c;

	setup(_i, "max_clients = 1\n", "", 1);
	expect_list(one, 1, 1);				/* connect */
	hbc_send(cl[1], "some data\nPING\n");
	hbc_expect(cl[1], "PONG", TMO);
	expect_list(one, 1, 2);				/* data */
	hbc_send(cl[1], "PING\nping x\n");
	hbc_expect(cl[1], "PONG", TMO);
	hbc_expect(cl[1], "PONG x", TMO);
	expect_list(one, 1, 2);				/* PINGs */
	hello(1, "dev");
	expect_list(one, 1, 3);				/* hello */
	c = hbc_connect(hd->port);
	hbc_expect(c, "BYE full", TMO);
	hbc_expect_closed(c, TMO);
	hbc_close(c);
	hbd_expect_log(hd, "reject addr=", TMO);
	expect_list(one, 1, 4);				/* reject */
	drop(1);
	expect_gone(1, "closed");
	expect_list(NULL, 0, 5);			/* disconnect */
	teardown();
}
END_TEST

/* age counts from connect, idle from the client's last byte. */
START_TEST(test_admin_list_times)
{
	struct row	 r;

	setup(_i, "", "", 1);
	usleep(600 * 1000);
	hbc_send(cl[1], "PING\n");
	hbc_expect(cl[1], "PONG", TMO);
	hbc_send(adm, "LIST\n");
	read_row(&r);
	hbc_expect(adm, "END seq=1", TMO);
	ck_assert_msg(r.age >= 0.5 && r.age <= 1.0, "age=%.1f", r.age);
	ck_assert_msg(r.idle <= 0.2, "idle=%.1f", r.idle);
	usleep(400 * 1000);
	hbc_send(adm, "LIST\n");
	read_row(&r);
	hbc_expect(adm, "END seq=1", TMO);
	ck_assert_msg(r.age >= 0.9 && r.age <= 1.5, "age=%.1f", r.age);
	ck_assert_msg(r.idle >= 0.3 && r.idle <= 0.7, "idle=%.1f", r.idle);
	teardown();
}
END_TEST

/* SEND by #id; the message keeps its inner spaces and tabs. */
START_TEST(test_admin_send_id)
{
	setup(_i, "", "", 2);
	expect_delivery("#2", 2, "hello world");
	expect_delivery("#1", 1, "a  b   c\tt");
	/* Nothing else reached either client. */
	hbc_send(cl[1], "PING 1\n");
	hbc_expect(cl[1], "PONG 1", TMO);
	hbc_send(cl[2], "PING 2\n");
	hbc_expect(cl[2], "PONG 2", TMO);
	teardown();
}
END_TEST

/* SEND by @127.0.0.1:port picks the connection with that peer address. */
START_TEST(test_admin_send_addr)
{
	char	target[32];
	int	id;

	setup(_i, "", "", 2);
	for (id = 2; id >= 1; id--) {
		snprintf(target, sizeof(target), "@127.0.0.1:%d",
		    local_port(cl[id]));
		expect_delivery(target, id, id == 1 ? "to one" : "to two");
	}
	teardown();
}
END_TEST

/* SEND by name follows HELLO and its renames. */
START_TEST(test_admin_send_name)
{
	setup(_i, "", "", 2);
	hello(1, "sensor-7");
	hello(2, "dev_2.b:c@d");
	expect_delivery("sensor-7", 1, "for seven");
	expect_delivery("dev_2.b:c@d", 2, "x y");
	hello(1, "sensor-8");
	expect_answer("SEND sensor-7 gone", NOSUCH);
	expect_delivery("sensor-8", 1, "renamed");
	teardown();
}
END_TEST

/* Every SEND error, exact; none of them reaches the client. */
START_TEST(test_admin_send_errors)
{
	static const struct exchange	x[] = {
		{ "SEND #2 x", NOSUCH },
		{ "SEND @127.0.0.1:1 x", NOSUCH },
		{ "SEND nobody x", NOSUCH },
		{ "SEND", "ERR syntax usage: SEND <target> <message>" },
		{ "SEND #1", "ERR syntax usage: SEND <target> <message>" },
		{ "SEND #abc x", "ERR syntax bad id: #abc" },
		{ "SEND # x", "ERR syntax bad id: #" },
		{ "SEND @nonsense x", "ERR syntax bad address: @nonsense" },
		{ "SEND @127.0.0.1 x", "ERR syntax bad address: @127.0.0.1" },
		{ "SEND bad!name x", "ERR syntax unknown word: bad!name" },
		{ "SEND -dash x", "ERR syntax unknown word: -dash" },
	};
	const char	*line;

	setup(_i, "", "", 1);
	run_exchanges(x, NITEMS(x));
	/* An empty message: the exact text is not fixed, the code is. */
	line = hbc_cmd(adm, "SEND #1 ", TMO);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strncmp(line, "ERR syntax ", 11) == 0, "got %s", line);
	hbc_sendn(adm, "SEND #1 a\rb\n", 12);
	hbc_expect(adm, "ERR syntax message holds CR or NUL", TMO);
	hbc_sendn(adm, "SEND #1 a\0b\n", 12);
	hbc_expect(adm, "ERR syntax message holds CR or NUL", TMO);
	expect_delivery("#1", 1, "only this");
	teardown();
}
END_TEST

/* A message of max_line bytes passes, one more is ERR toolong. */
START_TEST(test_admin_send_toolong)
{
	setup(_i, "max_line = 16\n", "", 1);
	expect_answer("SEND #1 0123456789abcdefX",
	    "ERR toolong message exceeds 16 bytes");
	expect_delivery("#1", 1, "0123456789abcdef");
	teardown();
}
END_TEST

/*
 * An admin line over max_line + 1024 bytes (its "\r\n" not counted) is
 * refused and skipped; the session stays.
 */
START_TEST(test_admin_line_toolong)
{
	char	cmd[2100];

	setup(_i, "max_line = 16\n", "", 1);
	expect_answer(long_send(cmd, 1041),
	    "ERR toolong line exceeds 1040 bytes");
	/* 1040 bytes is a line: its message is judged, and too long. */
	expect_answer(long_send(cmd, 1040),
	    "ERR toolong message exceeds 16 bytes");
	expect_answer(long_send(cmd, 2008),
	    "ERR toolong line exceeds 1040 bytes");
	expect_delivery("#1", 1, "after");
	/* A "\r" before the "\n" is not counted, nor while "\n" is to come. */
	strlcat(long_send(cmd, 1040), "\r", sizeof(cmd));
	expect_answer(cmd, "ERR toolong message exceeds 16 bytes");
	hbc_send(adm, cmd);
	hbc_expect_silence(adm, 200);
	hbc_send(adm, "\n");
	hbc_expect(adm, "ERR toolong message exceeds 16 bytes", TMO);
	teardown();
}
END_TEST

/*
 * A client that reads nothing is dropped with reason=overflow by the SEND
 * or BROADCAST that pushes it past send_buffer_limit, and is not counted
 * by it; the messages queued before count. _i / 2 picks the command.
 */
START_TEST(test_admin_overflow)
{
	const struct overflow	*oc = &overflows[_i / 2];
	const char		*line;
	char			*cmd, want[128];
	int			 n;

	setup(_i % 2, OVERFLOW_CONF, "", 0);
	slow_client(1);
	if (oc->fast)
		join(2);
	cmd = big_command(oc->prefix);
	n = repeat_until(cmd, oc->ok, cl[2], &line);
	free(cmd);
	ck_assert_str_eq(line, oc->last);
	ck_assert_int_gt(n, 0);
	if (oc->fast) {
		line = hbc_readline(cl[2], TMO);
		ck_assert_msg(line != NULL && strlen(line) == BIG,
		    "fast client: no message");
	}
	expect_gone(1, "overflow");
	expect_answer("SEND #1 x", NOSUCH);
	snprintf(want, sizeof(want), "overflows=1 disconnects=1 clients=%d "
	    "messages_sent=%d", oc->fast, n * (1 + oc->fast) + oc->fast);
	stats_check("STATS", want);
	teardown();
}
END_TEST

/* BROADCAST reaches every client and counts them. */
START_TEST(test_admin_broadcast)
{
	int	i;

	setup(_i, "", "", 0);
	expect_answer("BROADCAST nobody hears", "OK 0");
	for (i = 1; i <= 3; i++)
		join(i);
	hello(2, "named");
	expect_answer("BROADCAST hello  all", "OK 3");
	expect_answer("BROADCAST", "ERR syntax usage: BROADCAST <message>");
	expect_answer("BROADCAST again", "OK 3");
	for (i = 1; i <= 3; i++) {
		hbc_expect(cl[i], "hello  all", TMO);
		hbc_expect(cl[i], "again", TMO);
	}
	stats_check("STATS", "messages_sent=6");
	teardown();
}
END_TEST

/* KICK by each kind of target: OK, BYE kicked, EOF; then notfound. */
START_TEST(test_admin_kick)
{
	char	cmd[64];

	setup(_i, "", "", 3);
	hello(2, "dev");
	expect_answer("KICK #1", "OK");
	expect_kicked(1);
	expect_answer("KICK dev", "OK");
	expect_kicked(2);
	snprintf(cmd, sizeof(cmd), "KICK @127.0.0.1:%d", local_port(cl[3]));
	expect_answer(cmd, "OK");
	expect_kicked(3);

	expect_answer("KICK #1", NOSUCH);
	expect_answer("KICK dev", NOSUCH);
	expect_answer("KICK", "ERR syntax usage: KICK <selector>");
	expect_answer("KICK #x", "ERR syntax bad id: #x");
	stats_check("STATS", "kicked=3 disconnects=3 clients=0 "
	    "clients_peak=3");
	teardown();
}
END_TEST

/* A fresh daemon: every key in order, all counters zero. */
START_TEST(test_admin_stats_keys)
{
	setup(_i, "", "", 0);
	stats_check("STATS", "uptime=0 clients=0 clients_peak=0 accepted=0 "
	    "rejected=0 disconnects=0 timeouts=0 kicked=0 replaced=0 "
	    "overflows=0 pings=0 data_lines=0 messages_sent=0 bytes_in=0 "
	    "bytes_out=0 log_dropped=0 seq=0 accept_pauses=0 auth_failures=0 "
	    "handshake_failures=0 proxy_failures=0 flapping=0");
	teardown();
}
END_TEST

/* The counters follow a known session exactly. */
START_TEST(test_admin_stats_counts)
{
	struct hbc	*c;

	setup(_i, "max_clients = 3\n", "", 1);		/* seq 1 */
	hbc_send(cl[1], "PING x\n");			/* 7 in */
	hbc_expect(cl[1], "PONG x", TMO);		/* 7 out */
	hbc_send(cl[1], "data one\n\nPING\n");		/* 15 in, seq 2, 3 */
	hbc_expect(cl[1], "PONG", TMO);			/* 5 out */
	hello(1, "dev");			/* 10 in, 6 out, seq 4 */
	join(2);					/* seq 5 */
	hello(2, "dev");			/* 10 in, 6 out, seq 6, 7 */
	hbc_expect(cl[1], "BYE replaced", TMO);		/* 13 out */
	hbc_expect_closed(cl[1], TMO);
	expect_gone(1, "replaced");
	join(3);					/* seq 8 */
	expect_answer("KICK #3", "OK");			/* seq 9 */
	expect_kicked(3);				/* 11 out */
	join(4);					/* seq 10 */
	join(5);					/* seq 11 */
	expect_answer("SEND #2 hi", "OK 1");
	hbc_expect(cl[2], "hi", TMO);			/* 3 out */
	expect_answer("BROADCAST all", "OK 3");
	hbc_expect(cl[2], "all", TMO);			/* 3 x 4 out */
	hbc_expect(cl[4], "all", TMO);
	hbc_expect(cl[5], "all", TMO);
	stats_check("STATS", "clients=3 clients_peak=3 accepted=5 rejected=0 "
	    "disconnects=2 timeouts=0 kicked=1 replaced=1 overflows=0 "
	    "pings=2 data_lines=2 messages_sent=4 bytes_in=42 bytes_out=63 "
	    "log_dropped=0 seq=11");

	/* A refused connection is a reject, not an accept or a disconnect. */
	c = hbc_connect(hd->port);
	hbc_expect(c, "BYE full", TMO);
	hbc_expect_closed(c, TMO);
	hbc_close(c);
	hbd_expect_log(hd, "reject addr=", TMO);
	stats_check("STATS", "clients=3 clients_peak=3 accepted=5 rejected=1 "
	    "disconnects=2 bytes_in=42 seq=12");
	teardown();
}
END_TEST

/* A silent client counts as a timeout and its BYE as bytes out. */
START_TEST(test_admin_stats_timeout)
{
	static const char	*conf =
	    "[server]\n"
	    "listen = 127.0.0.1:0\n"
	    "heartbeat_timeout = 0.2\n"
	    "[admin]\n"
	    "listen = 127.0.0.1:0\n"
	    "[log]\n"
	    "syslog = no\n";

	hd = hbd_start(conf);
	adm = hbc_admin(hd);
	join(1);
	hbc_expect(cl[1], "BYE timeout", TMO);
	hbc_expect_closed(cl[1], TMO);
	expect_gone(1, "timeout");
	stats_check("STATS", "clients=0 clients_peak=1 accepted=1 "
	    "disconnects=1 timeouts=1 kicked=0 bytes_in=0 bytes_out=12 seq=2");
	teardown();
}
END_TEST

START_TEST(test_admin_help)
{
	static const char	*cmds[] = {
		"AUTH", "LIST", "SEND", "BROADCAST", "KICK", "STATS", "HELP",
		"QUIT"
	};
	const char	*line;
	unsigned int	 seen = 0;
	size_t		 n;
	int		 i;

	setup(_i, "", "", 0);
	hbc_send(adm, "HELP\n");
	while ((line = hbc_readline(adm, TMO)) != NULL &&
	    strcmp(line, "END") != 0) {
		n = strcspn(line, " ");
		for (i = 0; i < NITEMS(cmds); i++)
			if (strlen(cmds[i]) == n &&
			    strncmp(line, cmds[i], n) == 0)
				seen |= 1U << i;
	}
	ck_assert_msg(line != NULL, "HELP: no END");
	ck_assert_msg(seen == (1U << NITEMS(cmds)) - 1,
	    "HELP misses commands (mask %#x)", seen);
	/* The session goes on after a multi-line answer. */
	expect_answer("LIST", "END seq=0");
	teardown();
}
END_TEST

START_TEST(test_admin_quit)
{
	setup(_i, "", "", 0);
	/* Nothing after QUIT is answered. */
	hbc_send(adm, "QUIT\nLIST\n");
	hbc_expect(adm, "BYE quit", TMO);
	hbc_expect_closed(adm, TMO);
	teardown();
}
END_TEST

/* Empty lines get no answer at all. */
START_TEST(test_admin_empty_line)
{
	setup(_i, "", "", 0);
	hbc_send(adm, "\n\r\n\nLIST\n\n");
	hbc_expect(adm, "END seq=0", TMO);
	hbc_send(adm, "\n");
	stats_check("STATS", "seq=0");
	hbc_send(adm, "\n\n");
	hbc_expect_silence(adm, 300);
	teardown();
}
END_TEST

/* An unknown command is an ERR; the session stays and goes on. */
START_TEST(test_admin_unknown)
{
	static const struct exchange	x[] = {
		{ "FROB", "ERR unknown no such command" },
		{ "LISTX", "ERR unknown no such command" },
		{ "PING", "ERR unknown no such command" },
		{ "frob a b c", "ERR unknown no such command" },
		{ "LIST", "END seq=0" },
	};

	setup(_i, "", "", 0);
	run_exchanges(x, NITEMS(x));
	teardown();
}
END_TEST

/*
 * Command words match in any case; targets (names) and messages are
 * taken as sent.
 */
START_TEST(test_admin_case)
{
	setup(_i, "", "", 2);
	hello(2, "Dev");
	hbc_send(adm, "list\n");
	expect_row(1, "-", 0, 0);
	expect_row(2, "Dev", 10, 6);
	hbc_expect(adm, "END seq=3", TMO);
	expect_answer("send #1 MiXed Case", "OK 1");
	hbc_expect(cl[1], "MiXed Case", TMO);
	expect_answer("Broadcast b", "OK 2");
	hbc_expect(cl[1], "b", TMO);
	hbc_expect(cl[2], "b", TMO);
	expect_answer("send dev lower", NOSUCH);
	expect_answer("sEnD Dev upper", "OK 1");
	hbc_expect(cl[2], "upper", TMO);
	expect_block("hElP");
	stats_check("Stats", "clients=2");
	expect_answer("kick #1", "OK");
	expect_kicked(1);
	expect_answer("quit", "BYE quit");
	hbc_expect_closed(adm, TMO);
	teardown();
}
END_TEST

/* "\r\n" ends a command like "\n"; the "\r" never reaches a message. */
START_TEST(test_admin_crlf)
{
	setup(_i, "", "", 1);
	hbc_send(adm, "LIST\r\n");
	expect_row(1, "-", 0, 0);
	hbc_expect(adm, "END seq=1", TMO);
	hbc_send(adm, "SEND #1 hi there\r\nBROADCAST all\r\n");
	hbc_expect(adm, "OK 1", TMO);
	hbc_expect(adm, "OK 1", TMO);
	hbc_expect(cl[1], "hi there", TMO);
	hbc_expect(cl[1], "all", TMO);
	hbc_send(adm, "KICK #1\r\n");
	hbc_expect(adm, "OK", TMO);
	expect_kicked(1);
	hbc_send(adm, "QUIT\r\n");
	hbc_expect(adm, "BYE quit", TMO);
	hbc_expect_closed(adm, TMO);
	teardown();
}
END_TEST

/* NPIPE SENDs in one write: NPIPE answers in order, messages in order. */
START_TEST(test_admin_pipeline)
{
	char	*buf, want[32];
	size_t	 len = 0, cap = NPIPE * 32;
	int	 i;

	setup(_i, "", "", 1);
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < NPIPE; i++)
		len += snprintf(buf + len, cap - len, "SEND #1 msg-%d\n", i);
	hbc_sendn(adm, buf, len);
	free(buf);
	for (i = 0; i < NPIPE; i++)
		hbc_expect(adm, "OK 1", TMO);
	for (i = 0; i < NPIPE; i++) {
		snprintf(want, sizeof(want), "msg-%d", i);
		hbc_expect(cl[1], want, TMO);
	}
	/* Mixed commands in one write are answered in order too. */
	hbc_send(adm, "FROB\nSEND #1 z\nLIST\nKICK #9\n\nSEND #1 zz\n");
	hbc_expect(adm, "ERR unknown no such command", TMO);
	hbc_expect(adm, "OK 1", TMO);
	/* out: "msg-<i>\n" for i < NPIPE (7890 bytes), then "z\n". */
	expect_row(1, "-", 0, 7890 + 2);
	hbc_expect(adm, "END seq=1", TMO);
	hbc_expect(adm, NOSUCH, TMO);
	hbc_expect(adm, "OK 1", TMO);
	hbc_expect(cl[1], "z", TMO);
	hbc_expect(cl[1], "zz", TMO);
	teardown();
}
END_TEST

/* With a token, TCP needs AUTH for all but AUTH, HELP and QUIT. */
START_TEST(test_admin_auth_required)
{
	static const struct exchange	x[] = {
		{ "LIST", "ERR auth required" },
		{ "STATS", "ERR auth required" },
		{ "SEND #1 x", "ERR auth required" },
		{ "BROADCAST x", "ERR auth required" },
		{ "KICK #1", "ERR auth required" },
		{ "list", "ERR auth required" },
	};

	setup(0, "", "token = s3cret\n", 1);
	run_exchanges(x, NITEMS(x));
	expect_block("HELP");
	/* Still open, still unauthenticated, and the client got nothing. */
	run_exchanges(x, 1);
	hbc_send(cl[1], "PING\n");
	hbc_expect(cl[1], "PONG", TMO);
	expect_answer("QUIT", "BYE quit");
	hbc_expect_closed(adm, TMO);
	teardown();
}
END_TEST

/* A wrong token closes the session; nothing pipelined after it runs. */
START_TEST(test_admin_auth_bad)
{
	setup(0, "", "token = s3cret\n", 1);
	hbc_send(adm, "AUTH wrong\nAUTH s3cret\nKICK #1\n");
	hbc_expect(adm, "ERR auth bad token", TMO);
	hbc_expect_closed(adm, TMO);
	hbc_close(adm);
	adm = admin_open(0);
	expect_answer("AUTH s3cret2", "ERR auth bad token");
	hbc_expect_closed(adm, TMO);
	hbc_send(cl[1], "PING\n");
	hbc_expect(cl[1], "PONG", TMO);
	teardown();
}
END_TEST

/* The right token: OK, then every command works. */
START_TEST(test_admin_auth_good)
{
	setup(0, "", "token = s3cret\n", 1);
	expect_answer("LIST", "ERR auth required");
	expect_answer("auth s3cret", "OK");
	hbc_send(adm, "LIST\n");
	expect_row(1, "-", 0, 0);
	hbc_expect(adm, "END seq=1", TMO);
	expect_delivery("#1", 1, "authed");
	hbc_close(adm);
	/* AUTH and a command pipelined in one write. */
	adm = admin_open(0);
	hbc_send(adm, "AUTH s3cret\nSTATS\n");
	hbc_expect(adm, "OK", TMO);
	stats_check(NULL, "clients=1 messages_sent=1");
	teardown();
}
END_TEST

/* The Unix socket needs no AUTH, and AUTH there is always OK. */
START_TEST(test_admin_auth_unix)
{
	setup(1, "", "token = s3cret\n", 0);
	expect_answer("LIST", "END seq=0");
	expect_answer("AUTH wrong", "OK");
	expect_answer("AUTH s3cret", "OK");
	stats_check("STATS", "clients=0");
	teardown();
}
END_TEST

/* With no token, AUTH anything is OK on either transport. */
START_TEST(test_admin_auth_none)
{
	setup(_i, "", "", 0);
	expect_answer("AUTH anything", "OK");
	expect_answer("LIST", "END seq=0");
	teardown();
}
END_TEST

/* Admin on [::1] and a client on [::1], addressed as @[::1]:port. */
START_TEST(test_admin_ipv6)
{
	static const char	*conf =
	    "[server]\n"
	    "listen = 127.0.0.1:0 [::1]:0\n"
	    "heartbeat_timeout = 30\n"
	    "[admin]\n"
	    "listen = [::1]:0\n"
	    "[log]\n"
	    "syslog = no\n";
	struct row	 r;
	char		 want[80];

	hd = hbd_start(conf);
	ck_assert_int_gt(hd->port6, 0);
	ck_assert_int_gt(hd->admin_port, 0);
	adm = hbc_connect6(hd->admin_port);
	expect_answer("LIST", "END seq=0");
	cl[1] = hbc_connect6(hd->port6);
	hbd_expect_log(hd, "connect #1 ", TMO);
	hbc_send(adm, "LIST\n");
	read_row(&r);
	hbc_expect(adm, "END seq=1", TMO);
	snprintf(want, sizeof(want), "[::1]:%d", local_port(cl[1]));
	ck_assert_str_eq(r.addr, want);
	snprintf(want, sizeof(want), "@[::1]:%d", local_port(cl[1]));
	expect_delivery(want, 1, "six");
	teardown();
}
END_TEST

/* Adds a TCase named name running t for _i in [0, n). */
static void
add_case(Suite *s, const char *name, const TTest *t, int n)
{
	TCase	*tc;

	tc = tcase_create(name);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, t, 0, n);
	suite_add_tcase(s, tc);
}

Suite *
test_suite(void)
{
	Suite	*s;

	s = suite_create("admin");
	add_case(s, "list_empty", test_admin_list_empty, BOTH);
	add_case(s, "list_rows", test_admin_list_rows, BOTH);
	add_case(s, "list_seq", test_admin_list_seq, BOTH);
	add_case(s, "list_times", test_admin_list_times, TCP_ONLY);
	add_case(s, "send_id", test_admin_send_id, BOTH);
	add_case(s, "send_addr", test_admin_send_addr, BOTH);
	add_case(s, "send_name", test_admin_send_name, BOTH);
	add_case(s, "send_errors", test_admin_send_errors, BOTH);
	add_case(s, "send_toolong", test_admin_send_toolong, BOTH);
	add_case(s, "line_toolong", test_admin_line_toolong, BOTH);
	add_case(s, "overflow", test_admin_overflow, BOTH * NITEMS(overflows));
	add_case(s, "broadcast", test_admin_broadcast, BOTH);
	add_case(s, "kick", test_admin_kick, BOTH);
	add_case(s, "stats_keys", test_admin_stats_keys, BOTH);
	add_case(s, "stats_counts", test_admin_stats_counts, TCP_ONLY);
	add_case(s, "stats_timeout", test_admin_stats_timeout, TCP_ONLY);
	add_case(s, "help", test_admin_help, BOTH);
	add_case(s, "quit", test_admin_quit, BOTH);
	add_case(s, "empty_line", test_admin_empty_line, BOTH);
	add_case(s, "unknown", test_admin_unknown, BOTH);
	add_case(s, "case", test_admin_case, BOTH);
	add_case(s, "crlf", test_admin_crlf, BOTH);
	add_case(s, "pipeline", test_admin_pipeline, BOTH);
	add_case(s, "auth_required", test_admin_auth_required, TCP_ONLY);
	add_case(s, "auth_bad", test_admin_auth_bad, TCP_ONLY);
	add_case(s, "auth_good", test_admin_auth_good, TCP_ONLY);
	add_case(s, "auth_unix", test_admin_auth_unix, TCP_ONLY);
	add_case(s, "auth_none", test_admin_auth_none, BOTH);
	add_case(s, "ipv6", test_admin_ipv6, TCP_ONLY);
	return (s);
}
