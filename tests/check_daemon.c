/*
 * Integration tests for the daemon as a whole: real syslog datagrams on
 * /dev/log, shutdown on SIGTERM and SIGINT with many clients, the start
 * line, and the byte counts of the disconnect line.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define TMO		2000	/* ms to wait for any one line */
#define DEVLOG		"/dev/log"
#define NSHUT		500	/* clients connected at shutdown */
#define NINBOX		65536	/* datagrams kept */

#define CONF_FMT							\
	"[server]\n"							\
	"listen = %s\n"							\
	"%s"								\
	"[admin]\n"							\
	"listen = %s\n"							\
	"socket = %s\n"							\
	"[log]\n"							\
	"%s"

/* A [log] setting and the syslog header it must produce. */
struct logcase {
	const char	*conf;
	const char	*ident;
	int		 facility;	/* facility * 8, as in PRI */
};

/* What the start line says for one config. */
struct startcase {
	const char	*listen;
	const char	*alisten;
	const char	*asock;
	const char	*timeout;	/* NULL: the default */
	const char	*shown;		/* timeout= in the start line */
};

/* One client session and the disconnect line it must leave. */
struct bytecase {
	const char	*server;	/* extra [server] lines */
	const char	*send;		/* written at once */
	const char	*replies[4];	/* NULL-terminated */
	int		 hangup;	/* client closes after the replies */
	const char	*name;
	const char	*reason;
	int		 in;
	int		 out;
	double		 agemin;
};

static const struct logcase logcases[] = {
	{ "", "heartbeatd", 3 * 8 },
	{ "ident = other\nfacility = local3\n", "other", 19 * 8 },
};

static const struct startcase startcases[] = {
	{ "127.0.0.1:0 [::1]:0", "127.0.0.1:0", "@DIR@/admin.sock", "0.2",
	    "0.2" },
	{ "127.0.0.1:0", "", "", "30", "30" },
	{ "127.0.0.1:0", "", "@DIR@/admin.sock", "2.5", "2.5" },
	{ "127.0.0.1:0", "127.0.0.1:0", "", NULL, "6" },
};

static const struct bytecase bytecases[] = {
	{ "heartbeat_timeout = 0.2\n", "PING\n",
	    { "PONG", "BYE timeout", NULL }, 0, "-", "timeout", 5, 5 + 12,
	    0.2 },
	{ "", "HELLO dev-1\nPING a b\r\nQUIT\n",
	    { "OK #1", "PONG a b", "BYE quit", NULL }, 0, "dev-1", "quit",
	    12 + 10 + 5, 6 + 9 + 9, 0 },
	{ "", "data line\nx\r\nPING\n",
	    { "PONG", NULL }, 1, "-", "closed", 10 + 3 + 5, 5, 0 },
	{ "max_line = 16\n", "0123456789abcdefX\n",
	    { "ERR toolong line exceeds 16 bytes", "BYE toolong", NULL }, 0,
	    "-", "toolong", 18, 34 + 12, 0 },
};

static const int shutsigs[] = { SIGTERM, SIGINT };

static int		 logfd = -1;	/* our /dev/log, or -1 */
static const char	*logskip;	/* why the syslog tests cannot run */

/* Datagrams received on /dev/log by dgram_reader(), oldest first. */
static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	char		*msg[NINBOX];
	int		 n;
	int		 next;		/* dgram_next() has looked at these */
	int		 reading;	/* dgram_reader() runs */
} inbox = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { NULL },
    0, 0, 0 };

static struct hbd	*start(const char *, const char *, const char *,
			    const char *, const char *);
static int		 local_port(struct hbc *);
static char		*log_line(struct hbd *, const char *);
static void		 check_disconnect(const char *, int, int, const char *,
			    const char *, int, int, double);
static void		 syslog_setup(void);
static void		 syslog_teardown(void);
static void		*dgram_reader(void *);
static int		 syslog_skipped(void);
static const char	*dgram_next(pid_t, int);
static const char	*dgram_wait(pid_t, const char *);
static const char	*dgram_body(const char *, int, const char *, pid_t);
static TCase		*add_case(Suite *, const char *, const TTest *, int);

/* Starts the daemon; alisten and asock may be "" to turn admin off. */
static struct hbd *
start(const char *listen, const char *server, const char *alisten,
    const char *asock, const char *log)
{
	char	conf[2048];

	snprintf(conf, sizeof(conf), CONF_FMT, listen, server, alisten, asock,
	    log);
	return (hbd_start(conf));
}

/* The local port of c, as the daemon sees it in addr=. */
static int
local_port(struct hbc *c)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&sin, &len),
	    0);
	return (ntohs(sin.sin_port));
}

/* A malloc'd copy of the first log line read so far starting with prefix. */
static char *
log_line(struct hbd *d, const char *prefix)
{
	const char	*p;
	size_t		 n;

	hbd_drain_log(d);
	for (p = d->log; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			n = strcspn(p, "\n");
			return (strndup(p, n));
		}
	}
	return (NULL);
}

/*
 * Asserts that msg is exactly "disconnect #id addr=127.0.0.1:port name=..
 * reason=.. age=A in=.. out=.. clients=0" with A, one decimal, at least
 * agemin and less than a second more (name holds no regex specials).
 */
static void
check_disconnect(const char *msg, int id, int port, const char *name,
    const char *reason, int in, int out, double agemin)
{
	char	re[256];
	double	age;

	snprintf(re, sizeof(re), "^disconnect #%d addr=127\\.0\\.0\\.1:%d "
	    "name=%s reason=%s age=[0-9]+\\.[0-9] in=%d out=%d clients=0$", id,
	    port, name, reason, in, out);
	hb_assert_match(msg, re);
	age = strtod(strstr(msg, " age=") + 5, NULL);
	ck_assert_msg(age >= agemin && age < agemin + 1.0, "age: %s", msg);
}

/*
 * Unchecked fixture (runs in the runner, so teardown happens even when a
 * test fails): binds /dev/log for the syslog tests unless it exists.
 */
static void
syslog_setup(void)
{
	logfd = hb_dgram_bind(DEVLOG, &logskip);
}

static void
syslog_teardown(void)
{
	hb_dgram_unbind(logfd, DEVLOG);
	logfd = -1;
}

/*
 * Receives every datagram on /dev/log into the inbox as soon as it comes:
 * the queue of an AF_UNIX datagram socket is short (net.unix.
 * max_dgram_qlen, often 10), and other tests' daemons running alongside
 * may write to it too, so an idle reader would make our daemon drop lines.
 */
static void *
dgram_reader(void *arg)
{
	struct pollfd	 pfd;
	char		 buf[8192], *copy;
	ssize_t		 n;

	pfd.events = POLLIN;
	/* Polls briefly, as a closed fd would not wake a poll up. */
	while ((pfd.fd = logfd) != -1) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((n = recv(pfd.fd, buf, sizeof(buf) - 1, 0)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
			n--;
		buf[n] = '\0';
		copy = strdup(buf);
		pthread_mutex_lock(&inbox.mtx);
		if (copy != NULL && inbox.n < NINBOX)
			inbox.msg[inbox.n++] = copy;
		else
			free(copy);
		pthread_cond_broadcast(&inbox.cond);
		pthread_mutex_unlock(&inbox.mtx);
	}
	/* The fixture closed logfd (CK_FORK=no): a later test starts anew. */
	pthread_mutex_lock(&inbox.mtx);
	inbox.reading = 0;
	pthread_mutex_unlock(&inbox.mtx);
	return (NULL);
}

/*
 * Starts the inbox reader, or says why and returns 1 when the syslog
 * tests cannot run here.
 */
static int
syslog_skipped(void)
{
	pthread_t	reader;

	if (logfd == -1) {
		fprintf(stderr, "check_daemon: SKIP syslog test: %s\n",
		    logskip);
		return (1);
	}
	pthread_mutex_lock(&inbox.mtx);
	if (!inbox.reading) {
		ck_assert_int_eq(pthread_create(&reader, NULL, dgram_reader,
		    NULL), 0);
		pthread_detach(reader);
		inbox.reading = 1;
	}
	pthread_mutex_unlock(&inbox.mtx);
	return (0);
}

/*
 * The next datagram in the inbox from pid ("ident[pid]: " in it),
 * without a trailing newline, or NULL after timeout_ms.
 */
static const char *
dgram_next(pid_t pid, int timeout_ms)
{
	struct timespec	 ts;
	const char	*m = NULL;
	char		 tag[32];
	long long	 deadline;

	snprintf(tag, sizeof(tag), "[%d]: ", (int)pid);
	clock_gettime(CLOCK_REALTIME, &ts);
	deadline = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + timeout_ms;
	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = deadline % 1000 * 1000000;
	pthread_mutex_lock(&inbox.mtx);
	for (;;) {
		while (inbox.next < inbox.n && m == NULL)
			if (strstr(inbox.msg[inbox.next++], tag) != NULL)
				m = inbox.msg[inbox.next - 1];
		if (m != NULL || pthread_cond_timedwait(&inbox.cond,
		    &inbox.mtx, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&inbox.mtx);
	return (m);
}

/* The first datagram from pid whose message starts with prefix. */
static const char *
dgram_wait(pid_t pid, const char *prefix)
{
	const char	*m, *p;
	char		 tag[32];

	snprintf(tag, sizeof(tag), "[%d]: ", (int)pid);
	while ((m = dgram_next(pid, TMO)) != NULL) {
		p = strstr(m, tag) + strlen(tag);
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return (m);
	}
	ck_abort_msg("no syslog datagram \"%s...\" from %d", prefix, (int)pid);
	return (NULL);
}

/*
 * Asserts that datagram m is "<pri>Mmm dd hh:mm:ss ident[pid]: message"
 * and returns the message.
 */
static const char *
dgram_body(const char *m, int pri, const char *ident, pid_t pid)
{
	static const char	*stamp = "Aaa _9 99:99:99 ";
	char			 head[128];
	size_t			 i, n;
	int			 ok;

	n = snprintf(head, sizeof(head), "<%d>", pri);
	ck_assert_msg(strncmp(m, head, n) == 0, "want %s..., got %s", head,
	    m);
	m += n;
	for (i = 0; stamp[i] != '\0'; i++) {
		switch (stamp[i]) {
		case 'A':
			ok = isupper((unsigned char)m[i]);
			break;
		case 'a':
			ok = islower((unsigned char)m[i]);
			break;
		case '9':
			ok = isdigit((unsigned char)m[i]);
			break;
		case '_':
			ok = m[i] == ' ' || isdigit((unsigned char)m[i]);
			break;
		default:
			ok = m[i] == stamp[i];
			break;
		}
		ck_assert_msg(ok, "bad timestamp at %zu: %s", i, m);
	}
	m += i;
	n = snprintf(head, sizeof(head), "%s[%d]: ", ident, (int)pid);
	ck_assert_msg(strncmp(m, head, n) == 0, "want %s..., got %s", head,
	    m);
	return (m + n);
}

/* connect/disconnect at info and start/stop at notice, as configured. */
START_TEST(test_daemon_syslog)
{
	const struct logcase	*lc = &logcases[_i];
	struct hbd		*d;
	struct hbc		*c;
	const char		*m;
	char			 log[128], want[128], *line;
	pid_t			 pid;
	int			 port;

	if (syslog_skipped())
		return;
	snprintf(log, sizeof(log), "syslog = yes\n%s", lc->conf);
	d = start("127.0.0.1:0", "heartbeat_timeout = 30\n", "", "", log);
	pid = d->pid;
	m = dgram_body(dgram_wait(pid, "start "), lc->facility + 5,
	    lc->ident, pid);
	ck_assert_ptr_nonnull(line = log_line(d, "start "));
	ck_assert_str_eq(m, line);
	free(line);

	c = hbc_connect(d->port);
	port = local_port(c);
	m = dgram_body(dgram_wait(pid, "connect #1 "), lc->facility + 6,
	    lc->ident, pid);
	snprintf(want, sizeof(want), "connect #1 addr=127.0.0.1:%d clients=1",
	    port);
	ck_assert_str_eq(m, want);
	hbc_close(c);
	m = dgram_body(dgram_wait(pid, "disconnect #1 "), lc->facility + 6,
	    lc->ident, pid);
	check_disconnect(m, 1, port, "-", "closed", 0, 0, 0);

	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
	m = dgram_body(dgram_wait(pid, "stop "), lc->facility + 5, lc->ident,
	    pid);
	ck_assert_str_eq(m, "stop reason=signal clients=0");
}
END_TEST

/* level = notice keeps start and stop, drops connect and disconnect. */
START_TEST(test_daemon_syslog_level)
{
	struct hbd	*d;
	struct hbc	*c;
	const char	*m, *p;
	pid_t		 pid;
	int		 n = 0;

	if (syslog_skipped())
		return;
	d = start("127.0.0.1:0", "heartbeat_timeout = 30\n", "", "",
	    "syslog = yes\nlevel = notice\n");
	pid = d->pid;
	c = hbc_connect(d->port);
	hbc_send(c, "HELLO dev\nPING\n");
	hbc_expect(c, "OK #1", TMO);
	hbc_expect(c, "PONG", TMO);
	/* The connect and hello events happened before the PONG. */
	hbd_drain_log(d);
	ck_assert_int_eq(hbd_log_count(d, "connect #1 "), 0);
	ck_assert_int_eq(hbd_log_count(d, "hello #1 "), 0);
	ck_assert_int_eq(hbd_log_count(d, "start "), 1);
	hbc_close(c);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);

	while ((m = dgram_next(pid, TMO)) != NULL) {
		p = dgram_body(m, 3 * 8 + 5, "heartbeatd", pid);
		ck_assert_msg(n > 0 || strncmp(p, "start ", 6) == 0,
		    "first datagram: %s", m);
		if (strcmp(p, "stop reason=signal clients=0") == 0)
			break;
		ck_assert_msg(strstr(p, "connect") == NULL &&
		    strncmp(p, "hello", 5) != 0, "not filtered: %s", m);
		n++;
	}
	ck_assert_msg(m != NULL, "no stop datagram");
}
END_TEST

/*
 * With NSHUT clients, a signal sends each BYE shutdown then EOF, logs a
 * disconnect for each, then the stop line last, and exits 0.
 */
START_TEST(test_daemon_shutdown)
{
	struct hbd	*d;
	struct hbc	**c;
	const char	*line;
	char		 want[64];
	size_t		 n;
	int		 i;

	d = start("127.0.0.1:0", "heartbeat_timeout = 30\n", "", "",
	    "syslog = no\n");
	ck_assert_ptr_nonnull(c = calloc(NSHUT, sizeof(*c)));
	for (i = 0; i < NSHUT; i++)
		c[i] = hbc_connect(d->port);
	snprintf(want, sizeof(want), "connect #%d ", NSHUT);
	line = hbd_expect_log(d, want, 10000);
	snprintf(want, sizeof(want), " clients=%d", NSHUT);
	ck_assert_msg(strstr(line, want) != NULL, "%s", line);

	ck_assert_int_eq(kill(d->pid, shutsigs[_i]), 0);
	for (i = 0; i < NSHUT; i++) {
		hbc_expect(c[i], "BYE shutdown", TMO);
		hbc_expect_closed(c[i], TMO);
		hbc_close(c[i]);
	}
	free(c);
	ck_assert_int_eq(hbd_exit(d, 0), 0);
	ck_assert_int_eq(hbd_log_count(d, " reason=shutdown "), NSHUT);
	snprintf(want, sizeof(want), "\nstop reason=signal clients=%d\n",
	    NSHUT);
	n = strlen(want);
	ck_assert_msg(d->loglen >= n &&
	    strcmp(d->log + d->loglen - n, want) == 0,
	    "the log does not end with the stop line");
	ck_assert_int_eq(hbd_stop(d, 0), 0);
}
END_TEST

/* The start line names every bound address with its real port. */
START_TEST(test_daemon_start_line)
{
	const struct startcase	*sc = &startcases[_i];
	struct hbd		*d;
	struct hbc		*c;
	char			 server[64], want[1024], *line;
	const char		*sep = "";
	size_t			 n;

	server[0] = '\0';
	if (sc->timeout != NULL)
		snprintf(server, sizeof(server), "heartbeat_timeout = %s\n",
		    sc->timeout);
	d = start(sc->listen, server, sc->alisten, sc->asock, "syslog = no\n");
	n = snprintf(want, sizeof(want), "start version=0.1.0 "
	    "listen=127.0.0.1:%d", d->port);
	if (strchr(sc->listen, '[') != NULL)
		n += snprintf(want + n, sizeof(want) - n, ",[::1]:%d",
		    d->port6);
	n += snprintf(want + n, sizeof(want) - n, " admin=");
	if (*sc->alisten != '\0') {
		n += snprintf(want + n, sizeof(want) - n, "127.0.0.1:%d",
		    d->admin_port);
		sep = ",";
	}
	if (*sc->asock != '\0')
		n += snprintf(want + n, sizeof(want) - n, "%s%s/admin.sock",
		    sep, d->dir);
	if (*sc->alisten == '\0' && *sc->asock == '\0')
		n += snprintf(want + n, sizeof(want) - n, "none");
	snprintf(want + n, sizeof(want) - n, " timeout=%s", sc->shown);
	ck_assert_ptr_nonnull(line = log_line(d, "start "));
	ck_assert_str_eq(line, want);
	free(line);
	ck_assert_int_eq(hbd_log_count(d, "start "), 1);

	/* The ports shown are the ones that answer. */
	c = hbc_connect(d->port);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", TMO);
	hbc_close(c);
	if (d->port6 != 0) {
		c = hbc_connect6(d->port6);
		hbc_send(c, "PING\n");
		hbc_expect(c, "PONG", TMO);
		hbc_close(c);
	}
	if (d->admin_port != 0) {
		c = hbc_admin(d);
		ck_assert_str_eq(hbc_cmd(c, "QUIT", TMO), "BYE quit");
		hbc_close(c);
	}
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* in= and out= of the disconnect line count every byte, BYE included. */
START_TEST(test_daemon_bytes)
{
	const struct bytecase	*bc = &bytecases[_i];
	struct hbd		*d;
	struct hbc		*c;
	const char		*line;
	int			 i, port;

	d = start("127.0.0.1:0", bc->server, "", "", "syslog = no\n");
	c = hbc_connect(d->port);
	port = local_port(c);
	hbc_send(c, bc->send);
	for (i = 0; bc->replies[i] != NULL; i++)
		hbc_expect(c, bc->replies[i], TMO);
	if (!bc->hangup)
		hbc_expect_closed(c, TMO);
	hbc_close(c);
	line = hbd_wait_log(d, "disconnect #1 ", TMO);
	ck_assert_msg(line != NULL, "no disconnect line");
	check_disconnect(line, 1, port, bc->name, bc->reason, bc->in, bc->out,
	    bc->agemin);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* Adds a TCase named name running t for _i in [0, n). */
static TCase *
add_case(Suite *s, const char *name, const TTest *t, int n)
{
	TCase	*tc;

	tc = tcase_create(name);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, t, 0, n);
	suite_add_tcase(s, tc);
	return (tc);
}

#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("daemon");
	tc = add_case(s, "syslog", test_daemon_syslog, NITEMS(logcases));
	tcase_add_unchecked_fixture(tc, syslog_setup, syslog_teardown);
	tc = add_case(s, "syslog_level", test_daemon_syslog_level, 1);
	tcase_add_unchecked_fixture(tc, syslog_setup, syslog_teardown);
	add_case(s, "shutdown", test_daemon_shutdown, NITEMS(shutsigs));
	add_case(s, "start_line", test_daemon_start_line,
	    NITEMS(startcases));
	add_case(s, "bytes", test_daemon_bytes, NITEMS(bytecases));
	return (s);
}
