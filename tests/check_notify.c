/*
 * Integration tests for the systemd notifications (SPEC §7) without
 * systemd: the test binds the $NOTIFY_SOCKET datagram socket itself,
 * starts the real daemon with it in the environment and reads what the
 * daemon says there. Skipped (exit 77) when the build has no libsystemd.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define TMO		2000	/* ms to wait for any one datagram */
#define STATUS_MS	1000	/* STATUS at most this often */
#define JITTER		100	/* ms a timer may be early or late */
#define DGRAM_MAX	4096
#ifdef HAVE_LIBSYSTEMD
#define WITH_SYSTEMD	1
#else
#define WITH_SYSTEMD	0
#endif

#define CONF								\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 30\n"					\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"[log]\n"							\
	"syslog = no\n"

/* The test's end of $NOTIFY_SOCKET. */
struct notify {
	int	 fd;
	char	 path[PATH_MAX];
	char	 buf[DGRAM_MAX];	/* the last datagram, with a NUL */
};

static struct hbd	*start(struct notify *, const char *);
static int		 next_dgram(struct notify *, long long);
static int		 has_line(const char *, const char *);
static void		 expect_dgram(struct notify *, const char *, int);
static void		 expect_status(struct notify *, int, int);
static void		 expect_no_status(struct notify *, int);
static struct hbc	*client(struct hbd *);
static void		 end(struct hbd *, struct notify *);

/*
 * Binds a datagram socket in a private temp dir and starts the daemon
 * with NOTIFY_SOCKET naming it and WATCHDOG_USEC set to watchdog (NULL:
 * unset). WATCHDOG_PID stays unset: the daemon is the one to answer.
 */
static struct hbd *
start(struct notify *n, const char *watchdog)
{
	struct sockaddr_un	 sun;
	char			*marker;

	marker = hb_write_file("notify.marker", "");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_lt(snprintf(sun.sun_path, sizeof(sun.sun_path),
	    "%s/notify.sock", dirname(marker)), sizeof(sun.sun_path));
	free(marker);
	snprintf(n->path, sizeof(n->path), "%s", sun.sun_path);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(n->fd, -1);
	unlink(n->path);
	ck_assert_int_eq(bind(n->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", n->path, 1), 0);
	unsetenv("WATCHDOG_PID");
	if (watchdog != NULL)
		ck_assert_int_eq(setenv("WATCHDOG_USEC", watchdog, 1), 0);
	else
		unsetenv("WATCHDOG_USEC");
	return (hbd_start(CONF));
}

/* Receives one datagram into n->buf before deadline: 1, or 0 on timeout. */
static int
next_dgram(struct notify *n, long long deadline)
{
	struct pollfd	 pfd;
	ssize_t		 len;
	long long	 left;

	for (;;) {
		len = recv(n->fd, n->buf, sizeof(n->buf) - 1, 0);
		if (len >= 0) {
			n->buf[len] = '\0';
			return (1);
		}
		if (errno != EAGAIN && errno != EINTR)
			ck_abort_msg("recv: %s", strerror(errno));
		if ((left = deadline - hb_now_ms()) <= 0)
			return (0);
		pfd.fd = n->fd;
		pfd.events = POLLIN;
		poll(&pfd, 1, (int)left);
	}
}

/* Whether the datagram text holds the line want. */
static int
has_line(const char *text, const char *want)
{
	size_t	 n = strlen(want);

	for (; text != NULL; text = strchr(text, '\n')) {
		if (*text == '\n')
			text++;
		if (strncmp(text, want, n) == 0 &&
		    (text[n] == '\0' || text[n] == '\n'))
			return (1);
	}
	return (0);
}

/*
 * Asserts that the next datagram other than a STATUS holds the line want,
 * within timeout_ms.
 */
static void
expect_dgram(struct notify *n, const char *want, int timeout_ms)
{
	long long	 deadline = hb_now_ms() + timeout_ms;

	do {
		ck_assert_msg(next_dgram(n, deadline), "no \"%s\" within %d ms",
		    want, timeout_ms);
	} while (strncmp(n->buf, "STATUS=", 7) == 0);
	ck_assert_msg(has_line(n->buf, want), "want \"%s\", got \"%s\"", want,
	    n->buf);
}

/*
 * Asserts that STATUS=clients=<clients> comes within timeout_ms; other
 * STATUS counts on the way are skipped, anything else fails.
 */
static void
expect_status(struct notify *n, int clients, int timeout_ms)
{
	long long	 deadline = hb_now_ms() + timeout_ms;
	char		 want[64];

	snprintf(want, sizeof(want), "STATUS=clients=%d", clients);
	for (;;) {
		ck_assert_msg(next_dgram(n, deadline), "no \"%s\" within %d ms",
		    want, timeout_ms);
		ck_assert_msg(strncmp(n->buf, "STATUS=clients=", 15) == 0,
		    "want \"%s\", got \"%s\"", want, n->buf);
		if (strcmp(n->buf, want) == 0)
			return;
	}
}

/* Asserts that no datagram comes for ms milliseconds. */
static void
expect_no_status(struct notify *n, int ms)
{
	if (next_dgram(n, hb_now_ms() + ms))
		ck_abort_msg("expected silence for %d ms, got \"%s\"", ms,
		    n->buf);
}

/* A client of d, connected once it has answered a PING. */
static struct hbc *
client(struct hbd *d)
{
	struct hbc	*c;

	c = hbc_connect(d->port);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", TMO);
	return (c);
}

/* SIGTERM: STOPPING=1, then a clean exit. */
static void
end(struct hbd *d, struct notify *n)
{
	kill(d->pid, SIGTERM);
	expect_dgram(n, "STOPPING=1", TMO);
	ck_assert_int_eq(hbd_stop(d, 0), 0);
	close(n->fd);
}

/* READY=1 comes first, once every listener accepts. */
START_TEST(test_notify_ready)
{
	struct notify	 n;
	struct hbd	*d;
	struct hbc	*c, *a;

	d = start(&n, NULL);
	ck_assert_msg(next_dgram(&n, hb_now_ms() + TMO), "no datagram");
	ck_assert_str_eq(n.buf, "READY=1");
	c = client(d);
	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "QUIT", TMO), "BYE quit");
	hbc_close(a);
	hbc_close(c);
	end(d, &n);
}
END_TEST

/*
 * STATUS=clients=N when the count changes, not while it stays, and at
 * most once a second however fast clients come and go.
 */
START_TEST(test_notify_status)
{
	struct notify	 n;
	struct hbd	*d;
	struct hbc	*c[3], *churn;
	long long	 t0, last, stop;
	int		 i, count = 0;

	d = start(&n, NULL);
	expect_dgram(&n, "READY=1", TMO);
	for (i = 0; i < 3; i++)
		c[i] = client(d);
	expect_status(&n, 3, STATUS_MS + JITTER + TMO);
	t0 = hb_now_ms();
	expect_no_status(&n, STATUS_MS + JITTER + 300);
	for (i = 0; i < 3; i++)
		hbc_close(c[i]);
	expect_status(&n, 0, STATUS_MS + JITTER + TMO);
	last = hb_now_ms();
	ck_assert_msg(last - t0 >= STATUS_MS - JITTER, "STATUS %lld ms after "
	    "the one before", last - t0);
	/* Churn for 2.5 s: a client every 50 ms. */
	for (stop = hb_now_ms() + 2500; hb_now_ms() < stop;) {
		churn = client(d);
		if (next_dgram(&n, hb_now_ms() + 50)) {
			ck_assert_msg(strncmp(n.buf, "STATUS=clients=", 15) ==
			    0, "got \"%s\"", n.buf);
			ck_assert_msg(hb_now_ms() - last >= STATUS_MS - JITTER,
			    "STATUS %lld ms after the one before",
			    hb_now_ms() - last);
			last = hb_now_ms();
			count++;
		}
		hbc_close(churn);
	}
	ck_assert_msg(count <= 3, "%d STATUS datagrams in 2.5 s", count);
	end(d, &n);
}
END_TEST

/*
 * A reload right after a STATUS does not bring the next one sooner than
 * a second later, though the count changed in between.
 */
START_TEST(test_notify_status_reload)
{
	struct notify	 n;
	struct hbd	*d;
	struct hbc	*c1, *c2, *a;
	long long	 last;

	d = start(&n, NULL);
	expect_dgram(&n, "READY=1", TMO);
	c1 = client(d);
	expect_status(&n, 1, STATUS_MS + JITTER + TMO);
	last = hb_now_ms();
	c2 = client(d);
	a = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(a, "RELOAD", TMO), "OK unchanged");
	do {
		ck_assert_msg(next_dgram(&n, hb_now_ms() + STATUS_MS + TMO),
		    "no STATUS=clients=2");
		if (strncmp(n.buf, "STATUS=", 7) == 0)
			ck_assert_msg(hb_now_ms() - last >= STATUS_MS - JITTER,
			    "\"%s\" %lld ms after the STATUS before", n.buf,
			    hb_now_ms() - last);
	} while (strcmp(n.buf, "STATUS=clients=2") != 0);
	hbc_close(a);
	hbc_close(c1);
	hbc_close(c2);
	end(d, &n);
}
END_TEST

/*
 * RELOADING=1 then READY=1 around a reload, by RELOAD or SIGHUP, and
 * around a failed one as well: the daemon goes on with its old config.
 * _i: bit 0 SIGHUP, bit 1 an invalid file.
 */
START_TEST(test_notify_reload)
{
	struct notify	 n;
	struct hbd	*d;
	struct hbc	*a;
	const char	*line;
	FILE		*f;

	d = start(&n, NULL);
	expect_dgram(&n, "READY=1", TMO);
	a = hbc_admin(d);
	if (_i & 2) {
		ck_assert_ptr_nonnull(f = fopen(d->conf, "a"));
		fputs("bogus = 1\n", f);
		ck_assert_int_eq(fclose(f), 0);
	}
	if (_i & 1)
		ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	else
		hbc_send(a, "RELOAD\n");
	expect_dgram(&n, "RELOADING=1", TMO);
	expect_dgram(&n, "READY=1", TMO);
	if (!(_i & 1)) {
		line = hbc_readline(a, TMO);
		ck_assert_ptr_nonnull(line);
		ck_assert_msg(strncmp(line, _i & 2 ? "ERR config " :
		    "OK unchanged", 11) == 0, "RELOAD: %s", line);
	}
	hbd_expect_log(d, _i & 2 ? "reload failed: " : "reload ok unchanged",
	    TMO);
	hbc_close(a);
	end(d, &n);
}
END_TEST

/* With WATCHDOG_USEC = 200 ms, WATCHDOG=1 every 100 ms or so. */
START_TEST(test_notify_watchdog)
{
	struct notify	 n;
	struct hbd	*d;
	long long	 stop;
	int		 count = 0;

	d = start(&n, "200000");
	for (stop = hb_now_ms() + 1000; next_dgram(&n, stop);) {
		if (strcmp(n.buf, "WATCHDOG=1") == 0)
			count++;
	}
	ck_assert_msg(count >= 5 && count <= 15,
	    "%d WATCHDOG=1 in 1 s, want about 10", count);
	kill(d->pid, SIGTERM);
	/* A slow build (sanitizers, valgrind) may send its first STATUS now. */
	while (next_dgram(&n, hb_now_ms() + TMO) &&
	    (strcmp(n.buf, "WATCHDOG=1") == 0 ||
	    strncmp(n.buf, "STATUS=", 7) == 0))
		;
	ck_assert_str_eq(n.buf, "STOPPING=1");
	ck_assert_int_eq(hbd_stop(d, 0), 0);
	close(n.fd);
}
END_TEST

/* SIGTERM: STOPPING=1, and nothing about a watchdog when none is set. */
START_TEST(test_notify_stopping)
{
	struct notify	 n;
	struct hbd	*d;
	struct hbc	*c;

	d = start(&n, NULL);
	expect_dgram(&n, "READY=1", TMO);
	c = client(d);
	kill(d->pid, SIGTERM);
	expect_dgram(&n, "STOPPING=1", TMO);
	hbc_expect(c, "BYE shutdown", TMO);
	ck_assert_int_eq(hbd_stop(d, 0), 0);
	ck_assert_msg(!next_dgram(&n, hb_now_ms()), "after STOPPING: \"%s\"",
	    n.buf);
	hbc_close(c);
	close(n.fd);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	if (!WITH_SYSTEMD) {
		printf("heartbeatd is built without libsystemd: notify tests "
		    "skipped\n");
		return (NULL);
	}
	s = suite_create("notify");
	HB_TCASE(s, "ready", test_notify_ready, 1);
	HB_TCASE(s, "status", test_notify_status, 1);
	HB_TCASE(s, "status_reload", test_notify_status_reload, 1);
	HB_TCASE(s, "reload", test_notify_reload, 4);
	HB_TCASE(s, "watchdog", test_notify_watchdog, 1);
	HB_TCASE(s, "stopping", test_notify_stopping, 1);
	return (s);
}
