/*
 * Unit tests for src/store.c and its backends: the memory store keeps
 * nothing, the SQLite state file gives back what was put, the latest
 * change of each name, with the names that were online made offline at
 * its last commit; it commits within a second on its own, and refuses
 * files that are not heartbeatd's. Each test has a temp dir of its own.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "check_main.h"
#include "daemon.h"
#include "store.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define LOADED_MAX	8192

static void		 setup(void);
static void		 teardown(void);
static void		 collect(const struct store_seen *, void *);
static struct store_seen rec(const char *, const char *, int64_t);
static void		 reopen(void);
static int		 sql_count(const char *);
static void		 sql_run(const char *);
static void		 open_fails(const char *);

static char			 dir[] = "/tmp/check_store.XXXXXX";
static char			 file[64];
static struct hb_config		 conf;
static struct store_seen	 loaded[LOADED_MAX];
static size_t			 nloaded;

static void
setup(void)
{
	strlcpy(dir, "/tmp/check_store.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/state.db", dir);
	memset(&conf, 0, sizeof(conf));
	conf.state_file = file;
	ck_assert_ptr_nonnull(hb_base = event_base_new());
	nloaded = 0;
}

static void
teardown(void)
{
	char	 cmd[128];

	store_close();
	event_base_free(hb_base);
	hb_base = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A store_load_cb that keeps a copy of each record, strings included. */
static void
collect(const struct store_seen *r, void *arg)
{
	static char	 words[LOADED_MAX][2][16];

	ck_assert_uint_lt(nloaded, LOADED_MAX);
	loaded[nloaded] = *r;
	strlcpy(words[nloaded][0], r->state, sizeof(words[0][0]));
	strlcpy(words[nloaded][1], r->reason, sizeof(words[0][1]));
	loaded[nloaded].state = words[nloaded][0];
	loaded[nloaded].reason = words[nloaded][1];
	nloaded++;
}

static struct store_seen
rec(const char *name, const char *state, int64_t since)
{
	struct store_seen	 r;

	memset(&r, 0, sizeof(r));
	strlcpy(r.name, name, sizeof(r.name));
	r.state = state;
	snprintf(r.addr, sizeof(r.addr), "192.0.2.%d:%d", (int)strlen(name),
	    (int)(since % 65536));
	r.since = since;
	r.last_seen = since - 3;
	r.reason = strcmp(state, "online") == 0 ? "-" : "timeout";
	r.sessions = since % 7 + 1;
	return (r);
}

/* Closes the store, which writes everything, and loads it again. */
static void
reopen(void)
{
	char	*cause = NULL;

	store_close();
	nloaded = 0;
	ck_assert_msg(store_open(&conf, &cause) == 0, "%s", cause);
	ck_assert_msg(store_load(collect, NULL, &cause) == 0, "%s", cause);
}

/* Counts the rows of the state file's seen table that match where. */
static int
sql_count(const char *where)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		 sql[256];
	int		 n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM seen WHERE %s", where);
	ck_assert_int_eq(sqlite3_open_v2(file, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return (n);
}

/* Runs sql on the state file, from another connection. */
static void
sql_run(const char *sql)
{
	sqlite3	*h;

	ck_assert_int_eq(sqlite3_open(file, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	sqlite3_close(h);
}

/* Asserts that the file is refused, by -t and at start, with why. */
static void
open_fails(const char *why)
{
	char	*cause, want[256];

	snprintf(want, sizeof(want), "state file %s: %s", file, why);
	ck_assert_int_eq(store_check(&conf, &cause), -1);
	ck_assert_str_eq(cause, want);
	free(cause);
	ck_assert_int_eq(store_open(&conf, &cause), -1);
	ck_assert_str_eq(cause, want);
	free(cause);
}

/* The memory store keeps nothing and cannot change on a reload. */
START_TEST(test_store_memory)
{
	struct hb_config	 mem;
	struct store_seen	 r = rec("a", "offline", 100);
	char			*cause = NULL;

	memset(&mem, 0, sizeof(mem));
	ck_assert_int_eq(store_check(&mem, &cause), 0);
	ck_assert_int_eq(store_open(&mem, &cause), 0);
	store_put(&r);
	store_forget("a");
	ck_assert_int_eq(store_load(collect, NULL, &cause), 0);
	ck_assert_uint_eq(nloaded, 0);
	ck_assert_int_eq(store_reloadable(&mem, &cause), 0);
	ck_assert_int_eq(store_reloadable(&conf, &cause), -1);
	ck_assert_str_eq(cause, "state.file cannot change on reload");
	free(cause);
	store_close();
	ck_assert_int_eq(store_open(&mem, &cause), 0);
	ck_assert_int_eq(store_load(collect, NULL, &cause), 0);
	ck_assert_uint_eq(nloaded, 0);
}
END_TEST

/*
 * What is put comes back, oldest since first; a name put twice comes
 * back as put last; a forgotten name does not. A name online when the
 * file was closed comes back offline, reason lost, at its last commit.
 */
START_TEST(test_store_sqlite_round_trip)
{
	struct store_seen	 r[4];
	char			*cause = NULL;
	int64_t			 before, after;
	size_t			 i;

	ck_assert_int_eq(store_check(&conf, &cause), 0);
	ck_assert_msg(store_open(&conf, &cause) == 0, "%s", cause);
	ck_assert_int_eq(store_load(collect, NULL, &cause), 0);
	ck_assert_uint_eq(nloaded, 0);
	r[0] = rec("sensor-7", "offline", 1796405585);
	r[1] = rec("b", "online", 1796405000);
	r[2] = rec("gone", "offline", 1796405001);
	r[3] = rec("c", "held", 1796405002);
	for (i = 0; i < NITEMS(r); i++)
		store_put(&r[i]);
	r[2].since++;
	store_put(&r[2]);
	store_forget("gone");
	r[0].sessions = 12;
	r[0].reason = "renamed";
	store_put(&r[0]);
	before = time(NULL);
	reopen();
	after = time(NULL);
	ck_assert_uint_eq(nloaded, 3);
	ck_assert_str_eq(loaded[0].name, "c");
	ck_assert_str_eq(loaded[0].state, "held");
	ck_assert_str_eq(loaded[0].reason, "timeout");
	ck_assert_str_eq(loaded[1].name, "sensor-7");
	ck_assert_str_eq(loaded[1].state, "offline");
	ck_assert_str_eq(loaded[1].addr, "192.0.2.8:63825");
	ck_assert_int_eq(loaded[1].since, 1796405585);
	ck_assert_int_eq(loaded[1].last_seen, 1796405582);
	ck_assert_str_eq(loaded[1].reason, "renamed");
	ck_assert_uint_eq(loaded[1].sessions, 12);
	ck_assert_str_eq(loaded[2].name, "b");
	ck_assert_str_eq(loaded[2].state, "offline");
	ck_assert_str_eq(loaded[2].reason, "lost");
	ck_assert_int_ge(loaded[2].since, before);
	ck_assert_int_le(loaded[2].since, after);
	ck_assert_int_eq(loaded[2].last_seen, loaded[2].since);
	ck_assert_str_eq(loaded[2].addr, "192.0.2.1:63240");
	ck_assert_uint_eq(loaded[2].sessions, 6);
	ck_assert_int_eq(sql_count("state = 'online'"), 0);
}
END_TEST

/*
 * The writer commits within a second on its own, while the store stays
 * open; and a batch over the size that wakes it early arrives whole.
 */
START_TEST(test_store_sqlite_writer)
{
	struct store_seen	 r;
	char			*cause = NULL, name[16];
	long long		 deadline;
	int			 i;

	ck_assert_msg(store_open(&conf, &cause) == 0, "%s", cause);
	ck_assert_int_eq(store_load(collect, NULL, &cause), 0);
	r = rec("early", "online", 1000);
	store_put(&r);
	deadline = time(NULL) + 3;
	while (sql_count("name = 'early'") != 1) {
		ck_assert_msg(time(NULL) < deadline, "no commit within 3 s");
		usleep(10000);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		r = rec(name, "offline", 2000 + i);
		store_put(&r);
	}
	reopen();
	ck_assert_uint_eq(nloaded, 5001);
	ck_assert_str_eq(loaded[5000].name, "early");
	ck_assert_str_eq(loaded[5000].reason, "lost");
	ck_assert_str_eq(loaded[4999].name, "n4999");
}
END_TEST

/* Files that are not heartbeatd's, or cannot be, are refused. */
START_TEST(test_store_sqlite_refused)
{
	FILE	*f;
	char	*cause = NULL;

	sql_run("CREATE TABLE t (x)");
	open_fails("not a heartbeatd state file: a SQLite database of "
	    "another application");
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fprintf(f, "%0999d\n", 7);
	ck_assert_int_eq(fclose(f), 0);
	open_fails("not a heartbeatd state file: file is not a database");
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_int_eq(store_open(&conf, &cause), 0);
	store_close();
	sql_run("PRAGMA user_version = 2");
	open_fails("schema version 2, and this heartbeatd knows version 1");
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(store_check(&conf, &cause), 0);
	snprintf(file, sizeof(file), "%s/none/state.db", dir);
	ck_assert_int_eq(store_check(&conf, &cause), -1);
	ck_assert_str_eq(cause + strlen(cause) - 25, "No such file or directory");
	free(cause);
	ck_assert_int_eq(store_open(&conf, &cause), -1);
	ck_assert_str_eq(cause + strlen(cause) - 25, "No such file or directory");
	free(cause);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc;

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_store_memory);
	tcase_add_test(tc, test_store_sqlite_round_trip);
	tcase_add_test(tc, test_store_sqlite_writer);
	tcase_add_test(tc, test_store_sqlite_refused);
	suite_add_tcase(s, tc);
	return (s);
}
