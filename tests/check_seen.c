/*
 * Unit tests for src/seen.c, the last-seen registry: the states a name
 * goes through, its SEEN line, the order of a list, and which names
 * remember and forget_after let go, oldest offline first. Times are
 * given, not read from the clock, except that they lie near now so that
 * the registry's own timer has nothing to do meanwhile.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <event2/event.h>

#include "check_main.h"
#include "daemon.h"
#include "seen.h"
#include "store.h"
#include "util.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
/* 2026-12-04T17:33:05Z, the time in SPEC §11's example. */
#define SPEC_T		1796405585

static void		 setup(void);
static void		 teardown(void);
static void		 configure(uint64_t, uint64_t);
static void		 configure_flap(uint64_t, uint64_t);
static int		 take_all(const struct seen_entry *, int64_t, void *);
static const char	*kept(int64_t);
static void		 load(const char *, const char *, int64_t);

static int64_t		 t0;		/* about now */
static struct hb_config	 conf;

static void
setup(void)
{
	ck_assert_ptr_nonnull(hb_base = event_base_new());
	t0 = time(NULL);
	memset(&conf, 0, sizeof(conf));
	configure(100000, 2592000);
}

static void
teardown(void)
{
	seen_free();
	event_base_free(hb_base);
	hb_base = NULL;
}

static void
configure(uint64_t remember, uint64_t forget_after)
{
	conf.state_remember = remember;
	conf.state_forget_after = forget_after;
	seen_configure(&conf);
}

static void
configure_flap(uint64_t limit, uint64_t hold)
{
	conf.flap_limit = limit;
	conf.flap_hold = hold;
	seen_configure(&conf);
}

static int
take_all(const struct seen_entry *e, int64_t now, void *arg)
{
	return (1);
}

/* The names kept, as SEEN lists them at now: "a b c", or "". */
static const char *
kept(int64_t now)
{
	static char		 buf[1024];
	struct seen_entry	**v;
	size_t			 i, n;

	buf[0] = '\0';
	n = seen_select(take_all, NULL, now, &v);
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, " ", sizeof(buf));
		strlcat(buf, v[i]->name, sizeof(buf));
	}
	free(v);
	ck_assert_uint_eq(n, seen_count());
	return (buf);
}

/* Hands the registry a record as a store would at start. */
static void
load(const char *name, const char *state, int64_t since)
{
	struct store_seen	 rec;

	memset(&rec, 0, sizeof(rec));
	strlcpy(rec.name, name, sizeof(rec.name));
	rec.state = state;
	strlcpy(rec.addr, "192.0.2.7:53311", sizeof(rec.addr));
	rec.since = since;
	rec.last_seen = since - 1;
	rec.reason = "timeout";
	rec.sessions = 12;
	seen_load(&rec, NULL);
}

/* SPEC §11's example line, word for word. */
START_TEST(test_seen_line)
{
	struct seen_entry	*e;
	char			 line[SEEN_LINE_MAX];

	seen_online("sensor-7", check_sa("192.0.2.7:53311"), SPEC_T - 100);
	e = seen_find("sensor-7");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->state, SEEN_ONLINE);
	seen_offline("sensor-7", REASON_TIMEOUT, SPEC_T - 6, SPEC_T);
	e->sessions = 12;
	seen_format(e, SPEC_T + 3600, line, sizeof(line));
	ck_assert_str_eq(line, "SEEN sensor-7 state=offline "
	    "addr=192.0.2.7:53311 since=2026-12-04T17:33:05Z for=3600 "
	    "last_seen=2026-12-04T17:32:59Z reason=timeout sessions=12");
}
END_TEST

/* Online: since the HELLO, no disconnect yet, sessions counted. */
START_TEST(test_seen_online)
{
	struct seen_entry	*e;
	char			 line[SEEN_LINE_MAX];

	ck_assert_ptr_null(seen_find("dev"));
	seen_online("dev", check_sa("[2001:db8::1]:7"), SPEC_T);
	e = seen_find("dev");
	seen_format(e, SPEC_T + 5, line, sizeof(line));
	ck_assert_str_eq(line, "SEEN dev state=online addr=[2001:db8::1]:7 "
	    "since=2026-12-04T17:33:05Z for=5 "
	    "last_seen=2026-12-04T17:33:05Z reason=- sessions=1");
	seen_offline("dev", SEEN_RENAMED, SPEC_T + 9, SPEC_T + 9);
	seen_online("dev", check_sa("192.0.2.1:8"), SPEC_T + 10);
	seen_format(e, SPEC_T + 10, line, sizeof(line));
	ck_assert_str_eq(line, "SEEN dev state=online addr=192.0.2.1:8 "
	    "since=2026-12-04T17:33:15Z for=0 "
	    "last_seen=2026-12-04T17:33:15Z reason=renamed sessions=2");
	ck_assert_ptr_null(seen_find("de"));
	ck_assert_ptr_null(seen_find("devx"));
}
END_TEST

/* A list is longest in its state first, names breaking ties. */
START_TEST(test_seen_order)
{
	seen_online("c", check_sa("192.0.2.1:1"), t0 - 5);
	seen_online("b", check_sa("192.0.2.1:2"), t0 - 9);
	seen_online("a", check_sa("192.0.2.1:3"), t0 - 5);
	seen_online("d", check_sa("192.0.2.1:4"), t0 - 30);
	ck_assert_str_eq(kept(t0), "d b a c");
	seen_offline("d", REASON_CLOSED, t0, t0);
	ck_assert_str_eq(kept(t0), "b a c d");
}
END_TEST

/* Past remember, the longest offline names go first; online ones stay. */
START_TEST(test_seen_remember)
{
	configure(3, 2592000);
	seen_online("a", check_sa("192.0.2.1:1"), t0 - 50);
	seen_online("b", check_sa("192.0.2.1:1"), t0 - 50);
	seen_online("c", check_sa("192.0.2.1:1"), t0 - 50);
	seen_offline("b", REASON_CLOSED, t0 - 40, t0 - 40);
	seen_offline("a", REASON_CLOSED, t0 - 30, t0 - 30);
	ck_assert_str_eq(kept(t0), "c b a");
	seen_online("d", check_sa("192.0.2.1:1"), t0 - 20);
	ck_assert_str_eq(kept(t0), "c a d");
	seen_online("e", check_sa("192.0.2.1:1"), t0 - 10);
	ck_assert_str_eq(kept(t0), "c d e");
	seen_online("f", check_sa("192.0.2.1:1"), t0 - 5);
	ck_assert_str_eq(kept(t0), "c d e f");
	seen_offline("e", REASON_CLOSED, t0, t0);
	ck_assert_str_eq(kept(t0), "c d f");
	configure(1, 2592000);
	ck_assert_str_eq(kept(t0), "c d f");
	configure(0, 2592000);
	seen_offline("d", REASON_CLOSED, t0, t0);
	ck_assert_str_eq(kept(t0), "c f");
}
END_TEST

/* forget_after counts from going offline, to the second. */
START_TEST(test_seen_forget_after)
{
	configure(100000, 10);
	seen_online("a", check_sa("192.0.2.1:1"), t0);
	seen_online("b", check_sa("192.0.2.1:1"), t0);
	seen_online("c", check_sa("192.0.2.1:1"), t0);
	seen_offline("b", REASON_CLOSED, t0 + 1, t0 + 1);
	seen_offline("a", REASON_CLOSED, t0 + 5, t0 + 5);
	seen_tick(t0 + 10);
	ck_assert_str_eq(kept(t0 + 10), "c b a");
	seen_tick(t0 + 11);
	ck_assert_str_eq(kept(t0 + 11), "c a");
	seen_online("a", check_sa("192.0.2.1:1"), t0 + 12);
	seen_tick(t0 + 100);
	ck_assert_str_eq(kept(t0 + 100), "c a");
	seen_offline("a", REASON_CLOSED, t0 + 101, t0 + 101);
	seen_tick(t0 + 110);
	ck_assert_str_eq(kept(t0 + 110), "c a");
	seen_tick(t0 + 111);
	ck_assert_str_eq(kept(t0 + 111), "c");
}
END_TEST

/*
 * Loaded names come in any order and take their place by since, so that
 * remember and forget_after still let the oldest go first.
 */
START_TEST(test_seen_load)
{
	struct seen_entry	*e;
	char			 line[SEEN_LINE_MAX];

	configure(3, 100);
	load("b", "offline", t0 - 20);
	load("a", "offline", t0 - 50);
	load("c", "offline", t0 - 10);
	ck_assert_str_eq(kept(t0), "a b c");
	load("d", "offline", t0 - 30);
	ck_assert_str_eq(kept(t0), "d b c");
	seen_tick(t0 + 75);
	ck_assert_str_eq(kept(t0 + 75), "b c");
	e = seen_find("c");
	ck_assert_int_eq(e->last_seen, t0 - 11);
	e->since = e->last_seen = SPEC_T;
	seen_format(e, SPEC_T, line, sizeof(line));
	ck_assert_str_eq(line, "SEEN c state=offline addr=192.0.2.7:53311 "
	    "since=2026-12-04T17:33:05Z for=0 "
	    "last_seen=2026-12-04T17:33:05Z reason=timeout sessions=12");
}
END_TEST

/*
 * Sessions are counted in a window of 60 s from the first: the one past
 * flap_limit holds the name, and every HELLO in the hold is refused.
 */
START_TEST(test_seen_flap)
{
	struct seen_entry	*e;
	uint64_t		 n = 0;
	int			 i;

	configure_flap(2, 10);
	ck_assert_int_eq(seen_admit("x", t0, &n), SEEN_ADMITTED);
	seen_online("x", check_sa("192.0.2.1:1"), t0);
	ck_assert_int_eq(seen_admit("x", t0 + 1, &n), SEEN_ADMITTED);
	seen_online("x", check_sa("192.0.2.1:2"), t0 + 1);
	ck_assert_int_eq(seen_admit("x", t0 + 2, &n), SEEN_HOLDS);
	ck_assert_uint_eq(n, 3);
	e = seen_find("x");
	ck_assert_int_eq(e->state, SEEN_HELD);
	ck_assert_int_eq(e->since, t0 + 2);
	ck_assert_int_eq(e->reason, REASON_FLAPPING);
	ck_assert_uint_eq(e->sessions, 2);
	seen_offline("x", REASON_FLAPPING, t0 + 2, t0 + 2);
	ck_assert_int_eq(e->state, SEEN_HELD);
	ck_assert_int_eq(seen_admit("x", t0 + 11, &n), SEEN_REFUSED);
	seen_tick(t0 + 11);
	ck_assert_int_eq(e->state, SEEN_HELD);
	seen_tick(t0 + 12);
	ck_assert_int_eq(e->state, SEEN_OFFLINE);
	ck_assert_int_eq(e->since, t0 + 12);
	ck_assert_int_eq(seen_release("x", t0 + 12), -1);

	/* Sessions a window apart never add up. */
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(seen_admit("x", t0 + 12 + 30 * i, &n),
		    SEEN_ADMITTED);
		seen_online("x", check_sa("192.0.2.1:3"), t0 + 12 + 30 * i);
	}
	ck_assert_int_eq(seen_admit("x", t0 + 163, &n), SEEN_HOLDS);
	ck_assert_int_eq(seen_release("x", t0 + 164), 0);
	ck_assert_int_eq(e->state, SEEN_OFFLINE);
	ck_assert_int_eq(seen_release("x", t0 + 164), -1);
	ck_assert_int_eq(seen_release("nobody", t0 + 164), -1);
	ck_assert_int_eq(seen_admit("x", t0 + 165, &n), SEEN_ADMITTED);
	ck_assert_int_eq(seen_admit("x", t0 + 165, &n), SEEN_ADMITTED);
	ck_assert_int_eq(seen_admit("x", t0 + 165, &n), SEEN_HOLDS);

	/* Off, only a hold under way refuses. */
	configure_flap(0, 10);
	ck_assert_int_eq(seen_admit("x", t0 + 166, &n), SEEN_REFUSED);
	ck_assert_int_eq(seen_admit("x", t0 + 175, &n), SEEN_ADMITTED);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(seen_admit("x", t0 + 175, &n),
		    SEEN_ADMITTED);
}
END_TEST

/* Held names are never forgotten, and a loaded hold goes on. */
START_TEST(test_seen_flap_kept)
{
	configure(2, 5);
	configure_flap(1, 100);
	load("h", "held", t0 - 50);
	load("o", "offline", t0 - 4);
	ck_assert_str_eq(kept(t0), "h o");
	load("p", "offline", t0 - 3);
	ck_assert_str_eq(kept(t0), "h p");
	ck_assert_int_eq(seen_find("h")->state, SEEN_HELD);
	seen_tick(t0 + 2);
	ck_assert_str_eq(kept(t0), "h");
	seen_tick(t0 + 49);
	ck_assert_int_eq(seen_find("h")->state, SEEN_HELD);
	seen_tick(t0 + 50);
	ck_assert_int_eq(seen_find("h")->state, SEEN_OFFLINE);
	seen_tick(t0 + 55);
	ck_assert_str_eq(kept(t0), "");
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("seen");
	TCase	*tc;

	tc = tcase_create("registry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_seen_line);
	tcase_add_test(tc, test_seen_online);
	tcase_add_test(tc, test_seen_order);
	tcase_add_test(tc, test_seen_remember);
	tcase_add_test(tc, test_seen_forget_after);
	tcase_add_test(tc, test_seen_load);
	tcase_add_test(tc, test_seen_flap);
	tcase_add_test(tc, test_seen_flap_kept);
	suite_add_tcase(s, tc);
	return (s);
}
