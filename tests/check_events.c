/*
 * Unit tests for src/events.c's live feeds: a feed that leaves while it
 * takes an event (as the SSE feed does when its last reader is dropped
 * as slow) must not make the next feed miss that event.
 */

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "check_main.h"
#include "events.h"

static void	 leaving(uint64_t, enum event_kind, const char *, size_t);
static void	 staying(uint64_t, enum event_kind, const char *, size_t);

static int	 nleaving, nstaying;
static char	 last[128];

/* Takes one event, then leaves. */
static void
leaving(uint64_t seq, enum event_kind kind, const char *text, size_t len)
{
	nleaving++;
	events_sink_remove(leaving);
}

static void
staying(uint64_t seq, enum event_kind kind, const char *text, size_t len)
{
	nstaying++;
	snprintf(last, sizeof(last), "%.*s", (int)len, text);
}

START_TEST(test_events_sink_leaves)
{
	events_sink_add(leaving);
	events_sink_add(staying);
	events_flapping("dev-1", 7, 60);
	ck_assert_int_eq(nleaving, 1);
	ck_assert_int_eq(nstaying, 1);
	ck_assert_msg(strncmp(last, "flapping ", 9) == 0, "got \"%s\"", last);
	events_flapping("dev-1", 8, 60);
	ck_assert_int_eq(nleaving, 1);
	ck_assert_int_eq(nstaying, 2);
	events_sink_remove(staying);
	events_flapping("dev-1", 9, 60);
	ck_assert_int_eq(nstaying, 2);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("events");
	TCase	*tc;

	tc = tcase_create("sinks");
	tcase_add_test(tc, test_events_sink_leaves);
	suite_add_tcase(s, tc);
	return (s);
}
