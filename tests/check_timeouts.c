/*
 * Integration tests for per-client timeouts and heartbeat quality (SPEC
 * §10): HELLO timeout=, clamping, several distinct timeouts each dropped
 * in its window, re-clamping on reload, and gap_max/near in LIST.
 */

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define T		2000	/* ms to wait for an answer that is due */
#define LATE_MS		100	/* how late SPEC allows a drop to be */
#define BOUNDS		"[server]\nlisten = 127.0.0.1:0\n" \
			"heartbeat_timeout = 0.3\n" \
			"heartbeat_timeout_min = 0.15\n"

static struct hbd *start(const char *);
static struct hbc *hello(struct hbd *, const char *, const char *,
		    long long *);
static void	 expect_dropped(struct hbc *, long long, int);

static struct hbd *
start(const char *max)
{
	char	 conf[512];

	snprintf(conf, sizeof(conf), BOUNDS "heartbeat_timeout_max = %s\n"
	    "[admin]\nlisten = 127.0.0.1:0\n", max);
	return (hbd_start(conf));
}

/*
 * A client that says "HELLO args" and gets want; *sent is the time just
 * before its last byte went out.
 */
static struct hbc *
hello(struct hbd *d, const char *args, const char *want, long long *sent)
{
	struct hbc	*c;
	char		 line[256];

	c = hbc_connect(d->port);
	snprintf(line, sizeof(line), "HELLO %s\n", args);
	*sent = hb_now_ms();
	hbc_send(c, line);
	hbc_expect(c, want, T);
	return (c);
}

/* c gets "BYE timeout" no sooner than ms after sent, at most 100 ms late. */
static void
expect_dropped(struct hbc *c, long long sent, int ms)
{
	long long	 got;
	double		 late = LATE_MS * hb_slow_factor();

	hbc_expect(c, "BYE timeout", T + ms);
	got = hb_now_ms();
	ck_assert_msg(got - sent >= ms, "dropped after %lld ms, before its "
	    "%d ms timeout", got - sent, ms);
	ck_assert_msg(got - sent <= ms + late, "dropped after %lld ms, more "
	    "than %.0f ms late for its %d ms timeout", got - sent, late, ms);
	hbc_expect_closed(c, T);
	hbc_close(c);
}

/*
 * Four distinct granted timeouts at once, from a client each: one at the
 * lower bound (asked below it), one inside, one with none asked, one at
 * the upper bound (asked above it). Each is dropped in its own window.
 */
START_TEST(test_timeouts_distinct)
{
	struct hbd	*d;
	struct hbc	*c[4];
	long long	 t[4];

	d = start("0.5");
	c[0] = hello(d, "low timeout=0.01", "OK #1 timeout=0.15", &t[0]);
	c[1] = hello(d, "mid timeout=0.22", "OK #2 timeout=0.22", &t[1]);
	c[2] = hello(d, "none", "OK #3", &t[2]);
	c[3] = hello(d, "high timeout=3600", "OK #4 timeout=0.5", &t[3]);
	expect_dropped(c[0], t[0], 150);
	expect_dropped(c[1], t[1], 220);
	expect_dropped(c[2], t[2], 300);
	expect_dropped(c[3], t[3], 500);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/* A bad timeout changes nothing: the connection keeps no name. */
START_TEST(test_timeouts_syntax)
{
	struct hbd	*d;
	struct hbc	*c, *a;
	long long	 t;

	d = start("0");
	c = hello(d, "x timeout=soon", "ERR syntax timeout not a number", &t);
	hbc_send(c, "HELLO x timeout=-1\n");
	hbc_expect(c, "ERR syntax timeout not a number", T);
	hbc_send(c, "HELLO x timeout=1 timeout=2\n");
	hbc_expect(c, "ERR syntax duplicate option", T);
	a = hbc_admin(d);
	hb_assert_match(hbc_cmd(a, "LIST", T), "^CLIENT #1 name=- .* "
	    "timeout=0\\.3 gap_max=[0-9.]+ near=0$");
	/* Bounds of 0 are heartbeat_timeout itself: no own timeouts. */
	hbc_send(c, "HELLO x timeout=60\n");
	hbc_expect(c, "OK #1 timeout=0.3", T);
	hbc_close(a);
	hbc_close(c);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/*
 * A reload clamps what each client asked for into the new bounds, counted
 * from its last byte; a client that asked for none follows the new
 * heartbeat_timeout.
 */
START_TEST(test_timeouts_reload)
{
	struct hbd	*d;
	struct hbc	*c[2], *a;
	long long	 t[2];
	FILE		*f;

	d = start("2");
	c[0] = hello(d, "asked timeout=1.5", "OK #1 timeout=1.5", &t[0]);
	c[1] = hello(d, "plain", "OK #2", &t[1]);
	a = hbc_admin(d);
	ck_assert_ptr_nonnull(f = fopen(d->conf, "w"));
	fputs(BOUNDS "heartbeat_timeout_max = 0.4\n[admin]\nlisten = "
	    "127.0.0.1:0\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_str_eq(hbc_cmd(a, "RELOAD", T),
	    "OK changed=server.heartbeat_timeout_max");
	expect_dropped(c[1], t[1], 300);
	expect_dropped(c[0], t[0], 400);
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

/*
 * gap_max is the longest silence a read ended, near the silences longer
 * than half the timeout; the one in progress is idle, not a gap.
 */
START_TEST(test_timeouts_quality)
{
	struct hbd	*d;
	struct hbc	*c, *a;
	long long	 t;

	d = start("0");
	c = hello(d, "q", "OK #1", &t);
	hbc_expect_silence(c, 200);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", T);
	hbc_send(c, "PING\n");
	hbc_expect(c, "PONG", T);
	a = hbc_admin(d);
	hb_assert_match(hbc_cmd(a, "LIST", T), "^CLIENT #1 name=q .* "
	    "timeout=0\\.3 gap_max=0\\.[23] near=1$");
	hbc_close(a);
	hbc_close(c);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("timeouts");
	tc = tcase_create("timeouts");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timeouts_distinct);
	tcase_add_test(tc, test_timeouts_syntax);
	tcase_add_test(tc, test_timeouts_reload);
	tcase_add_test(tc, test_timeouts_quality);
	suite_add_tcase(s, tc);
	return (s);
}
