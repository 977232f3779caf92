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

#include "itest.h"

#define TMO		2000	/* ms to wait for any one answer */
#define BOTH		2	/* add_case: _i 0 is TCP, _i 1 Unix */
#define TCP_ONLY	1
#define NPIPE		1000	/* SENDs in one write */
#define BIG		4000	/* message bytes in the overflow tests */
#define OVERFLOW_CONF	"max_line = 4000\nsend_buffer_limit = 4096\n"

/* The admin listens on TCP and on a Unix socket in every test. */
#define CONF_FMT							\
	"[server]\n"							\
	"listen = %s\n"							\
	"heartbeat_timeout = 30\n"					\
	"%s"								\
	"[admin]\n"							\
	"listen = %s\n"							\
	"socket = @DIR@/admin.sock\n"					\
	"%s"								\
	"[log]\n"							\
	"syslog = no\n"

/* One parsed LIST line. */
struct row {
	int		 id;
	char		 name[80];
	char		 addr[80];
	double		 age;
	double		 idle;
	long long	 in;
	long long	 out;
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
	"bytes_out", "log_dropped", "seq"
};
#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define NSTATS	((size_t)NITEMS(stat_keys))

static const struct overflow overflows[] = {
	{ "SEND #1 ", "OK 1", "ERR overflow client dropped", 0 },
	{ "BROADCAST ", "OK 2", "OK 1", 1 },
};

static struct hbd	*start(const char *, const char *);
static struct hbd	*start_at(const char *, const char *, const char *,
			    const char *);
static struct hbc	*admin_open(struct hbd *, int);
static struct hbc	*client_join(struct hbd *, int);
static int		 local_port(struct hbc *);
static void		 expect_lines(struct hbc *, const char *, int);
static void		 expect_block(struct hbc *, const char *);
static double		 onedec(const char *, const char *);
static void		 read_row(struct hbc *, struct row *);
static void		 expect_row(struct hbc *, int, const char *, int,
			    long long, long long);
static void		 expect_list(struct hbc *, const int *, int, int);
static void		 stats_read(struct hbc *, long long *);
static void		 stats_check(struct hbc *, const char *,
			    const char *);
static void		 run_exchanges(struct hbc *, const struct exchange *,
			    size_t);
static void		 expect_kicked(struct hbd *, struct hbc *, int);
static struct hbc	*slow_client(struct hbd *, int);
static char		*big_command(const char *);
static int		 repeat_until(struct hbc *, const char *, const char *,
			    struct hbc *, const char **);
static void		 expect_overflowed(struct hbd *, int);
static void		 add_case(Suite *, const char *, const TTest *, int);
static Suite		*admin_suite(void);

/* Starts the daemon on 127.0.0.1 with extra [server] and [admin] lines. */
static struct hbd *
start(const char *server, const char *admin)
{
	return (start_at("127.0.0.1:0", server, "127.0.0.1:0", admin));
}

/* Starts the daemon with the given listen lists and extra lines. */
static struct hbd *
start_at(const char *listen, const char *server, const char *alisten,
    const char *admin)
{
	char	conf[2048];

	snprintf(conf, sizeof(conf), CONF_FMT, listen, server, alisten,
	    admin);
	return (hbd_start(conf));
}

/* An admin session on the TCP port (unix_sock 0) or the Unix socket. */
static struct hbc *
admin_open(struct hbd *d, int unix_sock)
{
	if (unix_sock)
		return (hbc_connect_unix(d->admin_sock));
	return (hbc_admin(d));
}

/* Connects a client and waits until the daemon has logged it as #id. */
static struct hbc *
client_join(struct hbd *d, int id)
{
	struct hbc	*c;
	char		 want[32];

	c = hbc_connect(d->port);
	snprintf(want, sizeof(want), "connect #%d ", id);
	ck_assert_msg(hbd_wait_log(d, want, TMO) != NULL,
	    "no \"%s\" log line", want);
	return (c);
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

/* Asserts that c receives want n times. */
static void
expect_lines(struct hbc *c, const char *want, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		hbc_expect(c, want, TMO);
}

/*
 * Sends cmd and reads its multi-line answer up to END; asserts that the
 * answer has at least one line before END.
 */
static void
expect_block(struct hbc *a, const char *cmd)
{
	const char	*line;
	int		 n = 0;

	hbc_send(a, cmd);
	hbc_send(a, "\n");
	while ((line = hbc_readline(a, TMO)) != NULL &&
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
read_row(struct hbc *a, struct row *r)
{
	const char	*line;
	char		 age[32], idle[32], again[512];
	int		 n;

	line = hbc_readline(a, TMO);
	ck_assert_msg(line != NULL, "LIST: no line");
	n = sscanf(line, "CLIENT #%d name=%79s addr=%79s age=%31s idle=%31s "
	    "in=%lld out=%lld", &r->id, r->name, r->addr, age, idle, &r->in,
	    &r->out);
	ck_assert_msg(n == 7, "bad LIST line: %s", line);
	/* Rebuilding the line catches stray spaces, signs and zeros. */
	snprintf(again, sizeof(again), "CLIENT #%d name=%s addr=%s age=%s "
	    "idle=%s in=%lld out=%lld", r->id, r->name, r->addr, age, idle,
	    r->in, r->out);
	ck_assert_str_eq(line, again);
	r->age = onedec(age, line);
	r->idle = onedec(idle, line);
}

/*
 * Reads one LIST line and asserts its id, name, 127.0.0.1 port and byte
 * counts; age and idle must be plausible for a client under 2 s old.
 */
static void
expect_row(struct hbc *a, int id, const char *name, int port, long long in,
    long long out)
{
	struct row	r;
	char		addr[80];

	read_row(a, &r);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
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
expect_list(struct hbc *a, const int *ids, int n, int seq)
{
	struct row	r;
	char		end[32];
	int		i;

	hbc_send(a, "LIST\n");
	for (i = 0; i < n; i++) {
		read_row(a, &r);
		ck_assert_int_eq(r.id, ids[i]);
	}
	snprintf(end, sizeof(end), "END seq=%d", seq);
	hbc_expect(a, end, TMO);
}

/* Reads a STATS answer: every key in SPEC order, then END, into v. */
static void
stats_read(struct hbc *a, long long *v)
{
	const char	*line, *val;
	char		 want[64];
	size_t		 i, n;

	for (i = 0; i < NSTATS; i++) {
		line = hbc_readline(a, TMO);
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
	hbc_expect(a, "END", TMO);
}

/*
 * Sends cmd (unless NULL: already sent), reads the STATS answer and asserts
 * every "key=value" of the space-separated want.
 */
static void
stats_check(struct hbc *a, const char *cmd, const char *want)
{
	long long	 v[NSTATS];
	char		*copy, *p, *w, *eq;
	size_t		 i;

	if (cmd != NULL) {
		hbc_send(a, cmd);
		hbc_send(a, "\n");
	}
	stats_read(a, v);
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

/* Sends each command and asserts its one-line answer. */
static void
run_exchanges(struct hbc *a, const struct exchange *x, size_t n)
{
	const char	*line;
	size_t		 i;

	for (i = 0; i < n; i++) {
		line = hbc_cmd(a, x[i].cmd, TMO);
		ck_assert_msg(line != NULL, "\"%s\": no answer", x[i].cmd);
		ck_assert_msg(strcmp(line, x[i].answer) == 0,
		    "\"%s\": want \"%s\", got \"%s\"", x[i].cmd, x[i].answer,
		    line);
	}
}

/* Asserts that client #id got BYE kicked, EOF, and a reason=kicked line. */
static void
expect_kicked(struct hbd *d, struct hbc *c, int id)
{
	const char	*line;
	char		 want[32];

	hbc_expect(c, "BYE kicked", TMO);
	hbc_expect_closed(c, TMO);
	snprintf(want, sizeof(want), "disconnect #%d ", id);
	line = hbd_wait_log(d, want, TMO);
	ck_assert_msg(line != NULL, "no \"%s\" log line", want);
	ck_assert_msg(strstr(line, " reason=kicked ") != NULL, "%s", line);
	hbc_close(c);
}

START_TEST(test_admin_list_empty)
{
	struct hbd	*d;
	struct hbc	*a;

	d = start("", "");
	a = admin_open(d, _i);
	hbc_send(a, "LIST\n");
	hbc_expect(a, "END seq=0", TMO);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Rows are oldest first, named and unnamed, with exact byte counts. */
START_TEST(test_admin_list_rows)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2, *c3, *c4;
	int		 p1, p3;

	d = start("", "");
	a = admin_open(d, _i);
	c1 = client_join(d, 1);
	c2 = client_join(d, 2);
	c3 = client_join(d, 3);
	/* A name sorting after "-" and after c3's must not move #1. */
	hbc_send(c1, "HELLO zeta\n");		/* 11 in */
	hbc_expect(c1, "OK #1", TMO);		/* 6 out */
	hbc_send(c2, "some data\nPING\n");	/* 15 in */
	hbc_expect(c2, "PONG", TMO);		/* 5 out */
	hbc_send(c3, "HELLO alpha\n");		/* 12 in */
	hbc_expect(c3, "OK #3", TMO);		/* 6 out */
	p1 = local_port(c1);
	p3 = local_port(c3);

	hbc_send(a, "LIST\n");
	expect_row(a, 1, "zeta", p1, 11, 6);
	expect_row(a, 2, "-", local_port(c2), 15, 5);
	expect_row(a, 3, "alpha", p3, 12, 6);
	/* connect x3, hello x2, one data line; PING is not an event. */
	hbc_expect(a, "END seq=6", TMO);

	hbc_close(c2);
	ck_assert_ptr_nonnull(hbd_wait_log(d, "disconnect #2 ", TMO));
	c4 = client_join(d, 4);
	hbc_send(a, "LIST\n");
	expect_row(a, 1, "zeta", p1, 11, 6);
	expect_row(a, 3, "alpha", p3, 12, 6);
	expect_row(a, 4, "-", local_port(c4), 0, 0);
	hbc_expect(a, "END seq=8", TMO);

	hbc_close(c1);
	hbc_close(c3);
	hbc_close(c4);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Each kind of event moves END seq=<n> by exactly one; PING does not. */
START_TEST(test_admin_list_seq)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2;
	const int	 one[] = { 1 };

	d = start("max_clients = 1\n", "");
	a = admin_open(d, _i);
	c1 = client_join(d, 1);
	expect_list(a, one, 1, 1);			/* connect */
	hbc_send(c1, "some data\nPING\n");
	hbc_expect(c1, "PONG", TMO);
	expect_list(a, one, 1, 2);			/* data */
	hbc_send(c1, "PING\nping x\n");
	hbc_expect(c1, "PONG", TMO);
	hbc_expect(c1, "PONG x", TMO);
	expect_list(a, one, 1, 2);			/* PINGs */
	hbc_send(c1, "HELLO dev\n");
	hbc_expect(c1, "OK #1", TMO);
	expect_list(a, one, 1, 3);			/* hello */
	c2 = hbc_connect(d->port);
	hbc_expect(c2, "BYE full", TMO);
	hbc_expect_closed(c2, TMO);
	ck_assert_ptr_nonnull(hbd_wait_log(d, "reject addr=", TMO));
	expect_list(a, one, 1, 4);			/* reject */
	hbc_close(c1);
	ck_assert_ptr_nonnull(hbd_wait_log(d, "disconnect #1 ", TMO));
	expect_list(a, NULL, 0, 5);			/* disconnect */

	hbc_close(c2);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* age counts from connect, idle from the client's last byte. */
START_TEST(test_admin_list_times)
{
	struct hbd	*d;
	struct hbc	*a, *c;
	struct row	 r;

	d = start("", "");
	a = admin_open(d, _i);
	c = client_join(d, 1);
	usleep(600 * 1000);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", TMO);
	hbc_send(a, "LIST\n");
	read_row(a, &r);
	hbc_expect(a, "END seq=1", TMO);
	ck_assert_msg(r.age >= 0.5 && r.age <= 1.0, "age=%.1f", r.age);
	ck_assert_msg(r.idle <= 0.2, "idle=%.1f", r.idle);
	usleep(400 * 1000);
	hbc_send(a, "LIST\n");
	read_row(a, &r);
	hbc_expect(a, "END seq=1", TMO);
	ck_assert_msg(r.age >= 0.9 && r.age <= 1.5, "age=%.1f", r.age);
	ck_assert_msg(r.idle >= 0.3 && r.idle <= 0.7, "idle=%.1f", r.idle);

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* SEND by #id; the message keeps its inner spaces. */
START_TEST(test_admin_send_id)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2;

	d = start("", "");
	a = admin_open(d, _i);
	c1 = client_join(d, 1);
	c2 = client_join(d, 2);
	ck_assert_str_eq(hbc_cmd(a, "SEND #2 hello world", TMO), "OK 1");
	hbc_expect(c2, "hello world", TMO);
	ck_assert_str_eq(hbc_cmd(a, "SEND #1 a  b   c\tt", TMO), "OK 1");
	hbc_expect(c1, "a  b   c\tt", TMO);
	/* Nothing else reached either client. */
	hbc_send(c1, "PING 1\n");
	hbc_expect(c1, "PONG 1", TMO);
	hbc_send(c2, "PING 2\n");
	hbc_expect(c2, "PONG 2", TMO);

	hbc_close(c1);
	hbc_close(c2);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* SEND by @127.0.0.1:port picks the connection with that peer address. */
START_TEST(test_admin_send_addr)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2;
	char		 cmd[64];

	d = start("", "");
	a = admin_open(d, _i);
	c1 = client_join(d, 1);
	c2 = client_join(d, 2);
	snprintf(cmd, sizeof(cmd), "SEND @127.0.0.1:%d to two", local_port(c2));
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO), "OK 1");
	hbc_expect(c2, "to two", TMO);
	snprintf(cmd, sizeof(cmd), "SEND @127.0.0.1:%d to one", local_port(c1));
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO), "OK 1");
	hbc_expect(c1, "to one", TMO);

	hbc_close(c1);
	hbc_close(c2);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* SEND by name follows HELLO and its renames. */
START_TEST(test_admin_send_name)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2;

	d = start("", "");
	a = admin_open(d, _i);
	c1 = client_join(d, 1);
	c2 = client_join(d, 2);
	hbc_send(c1, "HELLO sensor-7\n");
	hbc_expect(c1, "OK #1", TMO);
	hbc_send(c2, "HELLO dev_2.b:c@d\n");
	hbc_expect(c2, "OK #2", TMO);
	ck_assert_str_eq(hbc_cmd(a, "SEND sensor-7 for seven", TMO), "OK 1");
	hbc_expect(c1, "for seven", TMO);
	ck_assert_str_eq(hbc_cmd(a, "SEND dev_2.b:c@d x y", TMO), "OK 1");
	hbc_expect(c2, "x y", TMO);
	hbc_send(c1, "HELLO sensor-8\n");
	hbc_expect(c1, "OK #1", TMO);
	ck_assert_str_eq(hbc_cmd(a, "SEND sensor-7 gone", TMO),
	    "ERR notfound no such client");
	ck_assert_str_eq(hbc_cmd(a, "SEND sensor-8 renamed", TMO), "OK 1");
	hbc_expect(c1, "renamed", TMO);

	hbc_close(c1);
	hbc_close(c2);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Every SEND error, exact; none of them reaches the client. */
START_TEST(test_admin_send_errors)
{
	static const struct exchange	x[] = {
		{ "SEND #2 x", "ERR notfound no such client" },
		{ "SEND @127.0.0.1:1 x", "ERR notfound no such client" },
		{ "SEND nobody x", "ERR notfound no such client" },
		{ "SEND", "ERR syntax usage: SEND <target> <message>" },
		{ "SEND #1", "ERR syntax usage: SEND <target> <message>" },
		{ "SEND #abc x", "ERR syntax bad target" },
		{ "SEND # x", "ERR syntax bad target" },
		{ "SEND @nonsense x", "ERR syntax bad target" },
		{ "SEND @127.0.0.1 x", "ERR syntax bad target" },
		{ "SEND bad!name x", "ERR syntax bad target" },
		{ "SEND -dash x", "ERR syntax bad target" },
	};
	struct hbd	*d;
	struct hbc	*a, *c;
	const char	*line;

	d = start("", "");
	a = admin_open(d, _i);
	c = client_join(d, 1);
	run_exchanges(a, x, NITEMS(x));
	/* An empty message: the exact text is not fixed, the code is. */
	line = hbc_cmd(a, "SEND #1 ", TMO);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strncmp(line, "ERR syntax ", 11) == 0, "got %s", line);
	hbc_sendn(a, "SEND #1 a\rb\n", 12);
	hbc_expect(a, "ERR syntax message holds CR or NUL", TMO);
	hbc_sendn(a, "SEND #1 a\0b\n", 12);
	hbc_expect(a, "ERR syntax message holds CR or NUL", TMO);
	ck_assert_str_eq(hbc_cmd(a, "SEND #1 only this", TMO), "OK 1");
	hbc_expect(c, "only this", TMO);

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* A message of max_line bytes passes, one more is ERR toolong. */
START_TEST(test_admin_send_toolong)
{
	struct hbd	*d;
	struct hbc	*a, *c;
	char		 cmd[64];

	d = start("max_line = 16\n", "");
	a = admin_open(d, _i);
	c = client_join(d, 1);
	snprintf(cmd, sizeof(cmd), "SEND #1 %s", "0123456789abcdefX");
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO),
	    "ERR toolong message exceeds 16 bytes");
	snprintf(cmd, sizeof(cmd), "SEND #1 %s", "0123456789abcdef");
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO), "OK 1");
	hbc_expect(c, "0123456789abcdef", TMO);

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* An admin line over max_line + 1024 bytes is refused; the session stays. */
START_TEST(test_admin_line_toolong)
{
	struct hbd	*d;
	struct hbc	*a, *c;
	char		 cmd[2100];

	d = start("max_line = 16\n", "");
	a = admin_open(d, _i);
	c = client_join(d, 1);
	memcpy(cmd, "SEND #1 ", 8);
	memset(cmd + 8, 'x', 1041 - 8);
	cmd[1041] = '\0';
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO),
	    "ERR toolong line exceeds 1040 bytes");
	/* 1040 bytes is a line: its message is judged, and too long. */
	cmd[1040] = '\0';
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO),
	    "ERR toolong message exceeds 16 bytes");
	memset(cmd + 8, 'y', 2000);
	cmd[2008] = '\0';
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO),
	    "ERR toolong line exceeds 1040 bytes");
	ck_assert_str_eq(hbc_cmd(a, "SEND #1 after", TMO), "OK 1");
	hbc_expect(c, "after", TMO);

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* A 1040-byte line ended by "\r\n" is within max_line + 1024 bytes. */
START_TEST(test_admin_line_crlf_limit)
{
	struct hbd	*d;
	struct hbc	*a;
	char		 cmd[1100];

	d = start("max_line = 16\n", "");
	a = admin_open(d, _i);
	memcpy(cmd, "SEND #1 ", 8);
	memset(cmd + 8, 'x', 1040 - 8);
	memcpy(cmd + 1040, "\r\n", 3);
	hbc_send(a, cmd);
	hbc_expect(a, "ERR toolong message exceeds 16 bytes", TMO);
	/* Nor is it judged early while the "\n" is still to come. */
	cmd[1041] = '\0';
	hbc_send(a, cmd);
	hbc_expect_silence(a, 200);
	hbc_send(a, "\n");
	hbc_expect(a, "ERR toolong message exceeds 16 bytes", TMO);

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
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
	struct hbd		*d;
	struct hbc		*a, *slow, *fast = NULL;
	const char		*line;
	char			*cmd, want[128];
	int			 n;

	d = start(OVERFLOW_CONF, "");
	a = admin_open(d, _i % 2);
	slow = slow_client(d, 1);
	if (oc->fast)
		fast = client_join(d, 2);
	cmd = big_command(oc->prefix);
	n = repeat_until(a, cmd, oc->ok, fast, &line);
	ck_assert_str_eq(line, oc->last);
	ck_assert_int_gt(n, 0);
	if (fast != NULL) {
		line = hbc_readline(fast, TMO);
		ck_assert_msg(line != NULL && strlen(line) == BIG,
		    "fast client: no message");
	}
	expect_overflowed(d, 1);
	ck_assert_str_eq(hbc_cmd(a, "SEND #1 x", TMO),
	    "ERR notfound no such client");
	snprintf(want, sizeof(want), "overflows=1 disconnects=1 clients=%d "
	    "messages_sent=%d", oc->fast, n * (1 + oc->fast) + oc->fast);
	stats_check(a, "STATS", want);

	free(cmd);
	hbc_close(slow);
	if (fast != NULL)
		hbc_close(fast);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* BROADCAST reaches every client and counts them. */
START_TEST(test_admin_broadcast)
{
	struct hbd	*d;
	struct hbc	*a, *c[3];
	int		 i;

	d = start("", "");
	a = admin_open(d, _i);
	ck_assert_str_eq(hbc_cmd(a, "BROADCAST nobody hears", TMO), "OK 0");
	for (i = 0; i < 3; i++)
		c[i] = client_join(d, i + 1);
	hbc_send(c[1], "HELLO named\n");
	hbc_expect(c[1], "OK #2", TMO);
	ck_assert_str_eq(hbc_cmd(a, "BROADCAST hello  all", TMO), "OK 3");
	ck_assert_str_eq(hbc_cmd(a, "BROADCAST", TMO),
	    "ERR syntax usage: BROADCAST <message>");
	ck_assert_str_eq(hbc_cmd(a, "BROADCAST again", TMO), "OK 3");
	for (i = 0; i < 3; i++) {
		hbc_expect(c[i], "hello  all", TMO);
		hbc_expect(c[i], "again", TMO);
		hbc_close(c[i]);
	}
	stats_check(a, "STATS", "messages_sent=6");

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* KICK by each kind of target: OK, BYE kicked, EOF; then notfound. */
START_TEST(test_admin_kick)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2, *c3;
	char		 cmd[64];

	d = start("", "");
	a = admin_open(d, _i);
	c1 = client_join(d, 1);
	c2 = client_join(d, 2);
	c3 = client_join(d, 3);
	hbc_send(c2, "HELLO dev\n");
	hbc_expect(c2, "OK #2", TMO);

	ck_assert_str_eq(hbc_cmd(a, "KICK #1", TMO), "OK");
	expect_kicked(d, c1, 1);
	ck_assert_str_eq(hbc_cmd(a, "KICK dev", TMO), "OK");
	expect_kicked(d, c2, 2);
	snprintf(cmd, sizeof(cmd), "KICK @127.0.0.1:%d", local_port(c3));
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO), "OK");
	expect_kicked(d, c3, 3);

	ck_assert_str_eq(hbc_cmd(a, "KICK #1", TMO),
	    "ERR notfound no such client");
	ck_assert_str_eq(hbc_cmd(a, "KICK dev", TMO),
	    "ERR notfound no such client");
	ck_assert_str_eq(hbc_cmd(a, "KICK", TMO),
	    "ERR syntax usage: KICK <target>");
	ck_assert_str_eq(hbc_cmd(a, "KICK #x", TMO), "ERR syntax bad target");
	stats_check(a, "STATS",
	    "kicked=3 disconnects=3 clients=0 clients_peak=3");

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* A fresh daemon: every key in order, all counters zero. */
START_TEST(test_admin_stats_keys)
{
	struct hbd	*d;
	struct hbc	*a;

	d = start("", "");
	a = admin_open(d, _i);
	stats_check(a, "STATS", "uptime=0 clients=0 clients_peak=0 accepted=0 "
	    "rejected=0 disconnects=0 timeouts=0 kicked=0 replaced=0 "
	    "overflows=0 pings=0 data_lines=0 messages_sent=0 bytes_in=0 "
	    "bytes_out=0 log_dropped=0 seq=0");
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* The counters follow a known session exactly. */
START_TEST(test_admin_stats_counts)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2, *c3, *c4, *c5, *c6;

	d = start("max_clients = 3\n", "");
	a = admin_open(d, _i);
	c1 = client_join(d, 1);				/* seq 1 */
	hbc_send(c1, "PING x\n");			/* 7 in */
	hbc_expect(c1, "PONG x", TMO);			/* 7 out */
	hbc_send(c1, "data one\n\nPING\n");		/* 15 in, seq 2, 3 */
	hbc_expect(c1, "PONG", TMO);			/* 5 out */
	hbc_send(c1, "HELLO dev\n");			/* 10 in, seq 4 */
	hbc_expect(c1, "OK #1", TMO);			/* 6 out */
	c2 = client_join(d, 2);				/* seq 5 */
	hbc_send(c2, "HELLO dev\n");			/* 10 in, seq 6, 7 */
	hbc_expect(c2, "OK #2", TMO);			/* 6 out */
	hbc_expect(c1, "BYE replaced", TMO);		/* 13 out */
	hbc_expect_closed(c1, TMO);
	ck_assert_ptr_nonnull(hbd_wait_log(d, "disconnect #1 ", TMO));
	c3 = client_join(d, 3);				/* seq 8 */
	ck_assert_str_eq(hbc_cmd(a, "KICK #3", TMO), "OK");
	hbc_expect(c3, "BYE kicked", TMO);		/* 11 out, seq 9 */
	hbc_expect_closed(c3, TMO);
	ck_assert_ptr_nonnull(hbd_wait_log(d, "disconnect #3 ", TMO));
	c4 = client_join(d, 4);				/* seq 10 */
	c5 = client_join(d, 5);				/* seq 11 */
	ck_assert_str_eq(hbc_cmd(a, "SEND #2 hi", TMO), "OK 1");
	hbc_expect(c2, "hi", TMO);			/* 3 out */
	ck_assert_str_eq(hbc_cmd(a, "BROADCAST all", TMO), "OK 3");
	hbc_expect(c2, "all", TMO);			/* 3 x 4 out */
	hbc_expect(c4, "all", TMO);
	hbc_expect(c5, "all", TMO);
	stats_check(a, "STATS",
	    "clients=3 clients_peak=3 accepted=5 rejected=0 "
	    "disconnects=2 timeouts=0 kicked=1 replaced=1 overflows=0 "
	    "pings=2 data_lines=2 messages_sent=4 bytes_in=42 bytes_out=63 "
	    "log_dropped=0 seq=11");

	/* A refused connection is a reject, not an accept or a disconnect. */
	c6 = hbc_connect(d->port);
	hbc_expect(c6, "BYE full", TMO);
	hbc_expect_closed(c6, TMO);
	ck_assert_ptr_nonnull(hbd_wait_log(d, "reject addr=", TMO));
	stats_check(a, "STATS",
	    "clients=3 clients_peak=3 accepted=5 rejected=1 "
	    "disconnects=2 bytes_in=42 seq=12");

	hbc_close(c1);
	hbc_close(c2);
	hbc_close(c3);
	hbc_close(c4);
	hbc_close(c5);
	hbc_close(c6);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
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
	struct hbd	*d;
	struct hbc	*a, *c;

	d = hbd_start(conf);
	a = hbc_admin(d);
	c = client_join(d, 1);
	hbc_expect(c, "BYE timeout", TMO);
	hbc_expect_closed(c, TMO);
	ck_assert_ptr_nonnull(hbd_wait_log(d, "disconnect #1 ", TMO));
	stats_check(a, "STATS",
	    "clients=0 clients_peak=1 accepted=1 disconnects=1 "
	    "timeouts=1 kicked=0 bytes_in=0 bytes_out=12 seq=2");

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(test_admin_help)
{
	static const char	*cmds[] = {
		"AUTH", "LIST", "SEND", "BROADCAST", "KICK", "STATS", "HELP",
		"QUIT"
	};
	struct hbd	*d;
	struct hbc	*a;
	const char	*line;
	unsigned int	 seen = 0, all;
	size_t		 n;
	int		 i;

	d = start("", "");
	a = admin_open(d, _i);
	hbc_send(a, "HELP\n");
	while ((line = hbc_readline(a, TMO)) != NULL &&
	    strcmp(line, "END") != 0) {
		n = strcspn(line, " ");
		for (i = 0; i < NITEMS(cmds); i++)
			if (strlen(cmds[i]) == n &&
			    strncmp(line, cmds[i], n) == 0)
				seen |= 1U << i;
	}
	ck_assert_msg(line != NULL, "HELP: no END");
	all = (1U << NITEMS(cmds)) - 1;
	ck_assert_msg(seen == all, "HELP misses commands (mask %#x)", seen);
	/* The session goes on after a multi-line answer. */
	hbc_send(a, "LIST\n");
	hbc_expect(a, "END seq=0", TMO);

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(test_admin_quit)
{
	struct hbd	*d;
	struct hbc	*a;

	d = start("", "");
	a = admin_open(d, _i);
	/* Nothing after QUIT is answered. */
	hbc_send(a, "QUIT\nLIST\n");
	hbc_expect(a, "BYE quit", TMO);
	hbc_expect_closed(a, TMO);

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Empty lines get no answer at all. */
START_TEST(test_admin_empty_line)
{
	struct hbd	*d;
	struct hbc	*a;

	d = start("", "");
	a = admin_open(d, _i);
	hbc_send(a, "\n\r\n\nLIST\n\n");
	hbc_expect(a, "END seq=0", TMO);
	hbc_send(a, "\n");
	stats_check(a, "STATS", "seq=0");
	hbc_send(a, "\n\n");
	ck_assert_ptr_null(hbc_readline(a, 300));

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
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
	struct hbd	*d;
	struct hbc	*a;

	d = start("", "");
	a = admin_open(d, _i);
	run_exchanges(a, x, NITEMS(x));
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Command words match in any case; targets and messages stay as sent. */
START_TEST(test_admin_case)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2;

	d = start("", "");
	a = admin_open(d, _i);
	c1 = client_join(d, 1);
	c2 = client_join(d, 2);
	hbc_send(c2, "HELLO Dev\n");
	hbc_expect(c2, "OK #2", TMO);
	hbc_send(a, "list\n");
	expect_row(a, 1, "-", local_port(c1), 0, 0);
	expect_row(a, 2, "Dev", local_port(c2), 10, 6);
	hbc_expect(a, "END seq=3", TMO);
	ck_assert_str_eq(hbc_cmd(a, "send #1 MiXed Case", TMO), "OK 1");
	hbc_expect(c1, "MiXed Case", TMO);
	ck_assert_str_eq(hbc_cmd(a, "Broadcast b", TMO), "OK 2");
	hbc_expect(c1, "b", TMO);
	hbc_expect(c2, "b", TMO);
	ck_assert_str_eq(hbc_cmd(a, "send dev lower", TMO),
	    "ERR notfound no such client");
	ck_assert_str_eq(hbc_cmd(a, "sEnD Dev upper", TMO), "OK 1");
	hbc_expect(c2, "upper", TMO);
	expect_block(a, "hElP");
	stats_check(a, "Stats", "clients=2");
	ck_assert_str_eq(hbc_cmd(a, "kick #1", TMO), "OK");
	expect_kicked(d, c1, 1);
	hbc_send(a, "quit\n");
	hbc_expect(a, "BYE quit", TMO);
	hbc_expect_closed(a, TMO);

	hbc_close(c2);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* "\r\n" ends a command like "\n"; the "\r" never reaches a message. */
START_TEST(test_admin_crlf)
{
	struct hbd	*d;
	struct hbc	*a, *c;

	d = start("", "");
	a = admin_open(d, _i);
	c = client_join(d, 1);
	hbc_send(a, "LIST\r\n");
	expect_row(a, 1, "-", local_port(c), 0, 0);
	hbc_expect(a, "END seq=1", TMO);
	hbc_send(a, "SEND #1 hi there\r\nBROADCAST all\r\n");
	hbc_expect(a, "OK 1", TMO);
	hbc_expect(a, "OK 1", TMO);
	hbc_expect(c, "hi there", TMO);
	hbc_expect(c, "all", TMO);
	hbc_send(a, "KICK #1\r\n");
	hbc_expect(a, "OK", TMO);
	expect_kicked(d, c, 1);
	hbc_send(a, "QUIT\r\n");
	hbc_expect(a, "BYE quit", TMO);
	hbc_expect_closed(a, TMO);

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* NPIPE SENDs in one write: NPIPE answers in order, messages in order. */
START_TEST(test_admin_pipeline)
{
	struct hbd	*d;
	struct hbc	*a, *c;
	char		*buf, want[32];
	size_t		 len = 0, cap = NPIPE * 32;
	int		 i;

	d = start("", "");
	a = admin_open(d, _i);
	c = client_join(d, 1);
	ck_assert_ptr_nonnull(buf = malloc(cap));
	for (i = 0; i < NPIPE; i++)
		len += snprintf(buf + len, cap - len, "SEND #1 msg-%d\n", i);
	hbc_sendn(a, buf, len);
	expect_lines(a, "OK 1", NPIPE);
	for (i = 0; i < NPIPE; i++) {
		snprintf(want, sizeof(want), "msg-%d", i);
		hbc_expect(c, want, TMO);
	}
	free(buf);
	/* Mixed commands in one write are answered in order too. */
	hbc_send(a, "FROB\nSEND #1 z\nLIST\nKICK #9\n\nSEND #1 zz\n");
	hbc_expect(a, "ERR unknown no such command", TMO);
	hbc_expect(a, "OK 1", TMO);
	/* out: "msg-<i>\n" for i < NPIPE (7890 bytes), then "z\n". */
	expect_row(a, 1, "-", local_port(c), 0, 7890 + 2);
	hbc_expect(a, "END seq=1", TMO);
	hbc_expect(a, "ERR notfound no such client", TMO);
	hbc_expect(a, "OK 1", TMO);
	hbc_expect(c, "z", TMO);
	hbc_expect(c, "zz", TMO);

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
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
	struct hbd	*d;
	struct hbc	*a, *c;

	d = start("", "token = s3cret\n");
	c = client_join(d, 1);
	a = hbc_admin(d);
	run_exchanges(a, x, NITEMS(x));
	expect_block(a, "HELP");
	/* Still open, still unauthenticated, and the client got nothing. */
	run_exchanges(a, x, 1);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", TMO);
	hbc_send(a, "QUIT\n");
	hbc_expect(a, "BYE quit", TMO);
	hbc_expect_closed(a, TMO);

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* A wrong token closes the session; nothing pipelined after it runs. */
START_TEST(test_admin_auth_bad)
{
	struct hbd	*d;
	struct hbc	*a, *c;

	d = start("", "token = s3cret\n");
	c = client_join(d, 1);
	a = hbc_admin(d);
	hbc_send(a, "AUTH wrong\nAUTH s3cret\nKICK #1\n");
	hbc_expect(a, "ERR auth bad token", TMO);
	hbc_expect_closed(a, TMO);
	hbc_close(a);
	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "AUTH s3cret2", TMO),
	    "ERR auth bad token");
	hbc_expect_closed(a, TMO);
	hbc_close(a);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", TMO);

	hbc_close(c);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* The right token: OK, then every command works. */
START_TEST(test_admin_auth_good)
{
	struct hbd	*d;
	struct hbc	*a, *c;

	d = start("", "token = s3cret\n");
	c = client_join(d, 1);
	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "LIST", TMO), "ERR auth required");
	ck_assert_str_eq(hbc_cmd(a, "auth s3cret", TMO), "OK");
	hbc_send(a, "LIST\n");
	expect_row(a, 1, "-", local_port(c), 0, 0);
	hbc_expect(a, "END seq=1", TMO);
	ck_assert_str_eq(hbc_cmd(a, "SEND #1 authed", TMO), "OK 1");
	hbc_expect(c, "authed", TMO);
	hbc_close(a);
	/* AUTH and a command pipelined in one write. */
	a = hbc_admin(d);
	hbc_send(a, "AUTH s3cret\nSTATS\n");
	hbc_expect(a, "OK", TMO);
	stats_check(a, NULL, "clients=1 messages_sent=1");

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* The Unix socket needs no AUTH, and AUTH there is always OK. */
START_TEST(test_admin_auth_unix)
{
	struct hbd	*d;
	struct hbc	*a;

	d = start("", "token = s3cret\n");
	a = hbc_connect_unix(d->admin_sock);
	ck_assert_str_eq(hbc_cmd(a, "LIST", TMO), "END seq=0");
	ck_assert_str_eq(hbc_cmd(a, "AUTH wrong", TMO), "OK");
	ck_assert_str_eq(hbc_cmd(a, "AUTH s3cret", TMO), "OK");
	stats_check(a, "STATS", "clients=0");

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* With no token, AUTH anything is OK on either transport. */
START_TEST(test_admin_auth_none)
{
	struct hbd	*d;
	struct hbc	*a;

	d = start("", "");
	a = admin_open(d, _i);
	ck_assert_str_eq(hbc_cmd(a, "AUTH anything", TMO), "OK");
	ck_assert_str_eq(hbc_cmd(a, "LIST", TMO), "END seq=0");

	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Admin on [::1] and a client on [::1], addressed as @[::1]:port. */
START_TEST(test_admin_ipv6)
{
	struct hbd	*d;
	struct hbc	*a, *c;
	struct row	 r;
	char		 want[80];

	d = start_at("127.0.0.1:0 [::1]:0", "", "[::1]:0", "");
	ck_assert_int_gt(d->port6, 0);
	a = hbc_connect6(d->admin_port);
	ck_assert_str_eq(hbc_cmd(a, "LIST", TMO), "END seq=0");
	c = hbc_connect6(d->port6);
	ck_assert_ptr_nonnull(hbd_wait_log(d, "connect #1 ", TMO));
	hbc_send(a, "LIST\n");
	read_row(a, &r);
	hbc_expect(a, "END seq=1", TMO);
	snprintf(want, sizeof(want), "[::1]:%d", local_port(c));
	ck_assert_str_eq(r.addr, want);
	snprintf(want, sizeof(want), "SEND @[::1]:%d six", local_port(c));
	ck_assert_str_eq(hbc_cmd(a, want, TMO), "OK 1");
	hbc_expect(c, "six", TMO);

	hbc_close(c);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Joins client #id with a small receive buffer, and never reads it. */
static struct hbc *
slow_client(struct hbd *d, int id)
{
	struct hbc	*c;
	int		 small = 4096;

	c = client_join(d, id);
	/* Keep the kernel's share small so that the daemon's fills soon. */
	ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	return (c);
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
repeat_until(struct hbc *a, const char *cmd, const char *ok,
    struct hbc *reader, const char **last)
{
	const char	*line;
	long long	 deadline;
	int		 n = 0;

	deadline = hb_now_ms() + 15000;
	for (;;) {
		hbc_send(a, cmd);
		line = hbc_readline(a, TMO);
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

/* Waits for the disconnect line of client #id with reason=overflow. */
static void
expect_overflowed(struct hbd *d, int id)
{
	const char	*line;
	char		 want[32];

	snprintf(want, sizeof(want), "disconnect #%d ", id);
	line = hbd_expect_log(d, want, TMO);
	ck_assert_msg(strstr(line, " reason=overflow ") != NULL, "%s", line);
}

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

static Suite *
admin_suite(void)
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
	add_case(s, "line_crlf_limit", test_admin_line_crlf_limit, BOTH);
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

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(admin_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
