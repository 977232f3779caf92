/*
 * Unit tests for src/store.c and its backends: the memory store keeps
 * nothing, the SQLite state file gives back what was put, the latest
 * change of each name, with the names that were online made offline at
 * its last commit; it commits within a second on its own, and refuses
 * files that are not heartbeatd's. Pending pushes (SPEC §13): each is
 * answered, in order, once committed, and comes back after a reopen with
 * the highest id ever given; many share a commit; a file of schema 1 is
 * migrated; a clean stop answers what is queued; and on a full disk
 * pushes are refused while those kept before stay. Each test has a temp
 * dir of its own, and the event loop of the test answers the pushes.
 */

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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
#define PUSHES_MAX	12000
#define T0		1796405585000LL	/* a push's created, Unix ms */

/* A push as loaded, its message copied (at most 64 bytes of it). */
struct loaded_push {
	struct store_push	 p;
	char			 msg[64];
};

/* An answer of store_push_done(): the push's id, and why it failed. */
struct answer {
	uint64_t	 id;
	char		 error[256];	/* "": kept */
};

static void		 setup(void);
static void		 teardown(void);
static void		 collect(const struct store_seen *, void *);
static struct store_seen rec(const char *, const char *, int64_t);
static void		 reopen(void);
static long long	 sql_value(const char *);
static void		 sql_run(const char *);
static void		 open_fails(const char *);
static void		 collect_push(const struct store_push *, void *);
static void		 answered(void *, const char *);
static void		 add(uint64_t, const char *, const char *, size_t);
static void		 answers_wait(size_t);
static void		 expect_answers(size_t, size_t, uint64_t,
			    const char *);
static void		 expect_push(size_t, uint64_t, const char *,
			    const char *, size_t);
static int		 disk_mount(const char *);
static void		 disk_fill(void);
static void		 start(void);

static char			 dir[] = "/tmp/check_store.XXXXXX";
static char			 file[128];
static struct hb_config		 conf;
static struct store_seen	 loaded[LOADED_MAX];
static size_t			 nloaded;
static struct loaded_push	 pushes[PUSHES_MAX];
static size_t			 npushes;
static uint64_t			 last_id;
static struct answer		 answers[PUSHES_MAX];
static size_t			 nanswers;
static char			 disk[96];	/* the tmpfs, if mounted */

static void
setup(void)
{
	strlcpy(dir, "/tmp/check_store.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/state.db", dir);
	memset(&conf, 0, sizeof(conf));
	conf.state_file = file;
	ck_assert_ptr_nonnull(hb_base = event_base_new());
	nloaded = npushes = nanswers = 0;
	store_push_done_set(answered);
}

static void
teardown(void)
{
	char	 cmd[128];

	store_close();
	event_base_free(hb_base);
	hb_base = NULL;
	if (disk[0] != '\0') {
		ck_assert_int_eq(umount2(disk, MNT_DETACH), 0);
		disk[0] = '\0';
	}
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

/*
 * Closes the store, which writes everything, and loads it again: the
 * registry, the pending pushes and the last push id.
 */
static void
reopen(void)
{
	char	*cause = NULL;

	store_close();
	nloaded = npushes = 0;
	ck_assert_msg(store_open(&conf, &cause) == 0, "%s", cause);
	ck_assert_msg(store_load(collect, NULL, &cause) == 0, "%s", cause);
	ck_assert_msg(store_push_load(collect_push, NULL, &last_id, &cause) ==
	    0, "%s", cause);
}

/* The state file's answer to sql, one integer; -1 when there is none. */
static long long
sql_value(const char *sql)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	long long	 n = -1;

	ck_assert_int_eq(sqlite3_open_v2(file, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
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

/* A store_push_load_cb that keeps a copy of each push. */
static void
collect_push(const struct store_push *p, void *arg)
{
	struct loaded_push	*l;

	ck_assert_uint_lt(npushes, PUSHES_MAX);
	l = &pushes[npushes++];
	l->p = *p;
	memcpy(l->msg, p->msg, p->len < sizeof(l->msg) ? p->len :
	    sizeof(l->msg));
	l->p.msg = l->msg;
}

/* The store_push_done_cb: keeps each answer, tokens being push ids. */
static void
answered(void *token, const char *error)
{
	ck_assert_uint_lt(nanswers, PUSHES_MAX);
	answers[nanswers].id = (uintptr_t)token;
	strlcpy(answers[nanswers].error, error != NULL ? error : "",
	    sizeof(answers[0].error));
	nanswers++;
}

/* Gives the store push id for name, whose token is its id. */
static void
add(uint64_t id, const char *name, const char *msg, size_t len)
{
	struct store_push	 p;

	memset(&p, 0, sizeof(p));
	p.id = id;
	strlcpy(p.name, name, sizeof(p.name));
	p.created = T0 + (int64_t)id;
	p.expires = p.created + 86400000;
	p.msg = msg;
	p.len = len;
	ck_assert_int_eq(store_push_add(&p, (void *)(uintptr_t)id), 0);
}

/* Runs the event loop until n answers in all have come, or 10 s pass. */
static void
answers_wait(size_t n)
{
	struct timeval	 tick = { 0, 20000 };
	time_t		 deadline = time(NULL) + 10;

	while (nanswers < n) {
		ck_assert_msg(time(NULL) < deadline, "%zu answers of %zu",
		    nanswers, n);
		event_base_loopexit(hb_base, &tick);
		event_base_dispatch(hb_base);
	}
	ck_assert_uint_eq(nanswers, n);
}

/*
 * Asserts that answers [from, to) are for the ids from first on, in
 * order, each with error ("" for kept).
 */
static void
expect_answers(size_t from, size_t to, uint64_t first, const char *error)
{
	size_t	 i;

	for (i = from; i < to; i++) {
		ck_assert_uint_eq(answers[i].id, first + (i - from));
		ck_assert_str_eq(answers[i].error, error);
	}
}

/* Asserts that the i-th push loaded is id, for name, saying msg (as far
 * as kept). */
static void
expect_push(size_t i, uint64_t id, const char *name, const char *msg,
    size_t len)
{
	ck_assert_uint_lt(i, npushes);
	ck_assert_uint_eq(pushes[i].p.id, id);
	ck_assert_str_eq(pushes[i].p.name, name);
	ck_assert_int_eq(pushes[i].p.created, T0 + (int64_t)id);
	ck_assert_int_eq(pushes[i].p.expires, T0 + (int64_t)id + 86400000);
	ck_assert_uint_eq(pushes[i].p.len, len);
	ck_assert_mem_eq(pushes[i].p.msg, msg, len < sizeof(pushes[i].msg) ?
	    len : sizeof(pushes[i].msg));
}

/*
 * Mounts a tmpfs of size at dir/disk and moves the state file there. The
 * mount is the test process's own (a mount namespace), so that it goes
 * with the process even when a failed test skips teardown. Returns 0, or
 * -1 when mounting is not permitted here.
 */
static int
disk_mount(const char *size)
{
	char	 opts[32];

	snprintf(disk, sizeof(disk), "%s/disk", dir);
	ck_assert_int_eq(mkdir(disk, 0700), 0);
	snprintf(opts, sizeof(opts), "size=%s", size);
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", disk, "tmpfs", 0, opts) == -1) {
		printf("check_store: SKIP full disk: mount tmpfs: %s\n",
		    strerror(errno));
		disk[0] = '\0';
		return (-1);
	}
	snprintf(file, sizeof(file), "%s/state.db", disk);
	return (0);
}

/* Fills the tmpfs to its last byte. */
static void
disk_fill(void)
{
	char	 path[128], buf[4096];
	int	 fd;

	memset(buf, 'x', sizeof(buf));
	snprintf(path, sizeof(path), "%s/filler", disk);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT, 0600), -1);
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(close(fd), 0);
}

/* The memory store keeps nothing and cannot change on a reload. */
START_TEST(test_store_memory)
{
	struct hb_config	 mem;
	struct store_seen	 r = rec("a", "offline", 100);
	struct store_push	 p;
	char			*cause = NULL;

	memset(&mem, 0, sizeof(mem));
	ck_assert_int_eq(store_check(&mem, &cause), 0);
	ck_assert_int_eq(store_open(&mem, &cause), 0);
	store_put(&r);
	store_forget("a");
	ck_assert_int_eq(store_load(collect, NULL, &cause), 0);
	ck_assert_uint_eq(nloaded, 0);
	memset(&p, 0, sizeof(p));
	p.id = 7;
	ck_assert_int_eq(store_push_add(&p, NULL), 1);
	store_push_delete(7);
	last_id = 99;
	ck_assert_int_eq(store_push_load(collect_push, NULL, &last_id, &cause),
	    0);
	ck_assert_uint_eq(npushes, 0);
	ck_assert_uint_eq(last_id, 0);
	ck_assert_uint_eq(store_commits(), 0);
	ck_assert_uint_eq(nanswers, 0);
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
	ck_assert_int_eq(sql_value("SELECT count(*) FROM seen WHERE "
	    "state = 'online'"), 0);
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
	while (sql_value("SELECT count(*) FROM seen WHERE name = 'early'") !=
	    1) {
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
	sql_run("PRAGMA user_version = 3");
	open_fails("schema version 3, and this heartbeatd knows versions 1 "
	    "to 2");
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

/* Opens the state file and loads it, as heartbeatd does at start. */
static void
start(void)
{
	char	*cause = NULL;

	ck_assert_msg(store_open(&conf, &cause) == 0, "%s", cause);
	ck_assert_msg(store_load(collect, NULL, &cause) == 0, "%s", cause);
	ck_assert_msg(store_push_load(collect_push, NULL, &last_id, &cause) ==
	    0, "%s", cause);
}

/*
 * Each push is answered once kept, in the order given, and comes back
 * after a reopen in id order, its bytes as given; a deleted one does
 * not. The highest id ever given outlives the pushes.
 */
START_TEST(test_store_push_round_trip)
{
	static const char	 bin[] = "a\0b\tc\377";

	start();
	ck_assert_uint_eq(npushes, 0);
	ck_assert_uint_eq(last_id, 0);
	add(1, "sensor-7", "reboot now", 10);
	add(2, "b", bin, sizeof(bin) - 1);
	add(3, "sensor-7", "", 0);
	add(4, "c", "gone", 4);
	answers_wait(4);
	expect_answers(0, 4, 1, "");
	ck_assert_uint_gt(store_commits(), 0);
	store_push_delete(4);
	add(9, "c", "after a gap", 11);
	answers_wait(5);
	expect_answers(4, 5, 9, "");
	reopen();
	ck_assert_uint_eq(npushes, 4);
	expect_push(0, 1, "sensor-7", "reboot now", 10);
	expect_push(1, 2, "b", bin, sizeof(bin) - 1);
	expect_push(2, 3, "sensor-7", "", 0);
	expect_push(3, 9, "c", "after a gap", 11);
	ck_assert_uint_eq(last_id, 9);
	store_push_delete(1);
	store_push_delete(2);
	store_push_delete(3);
	store_push_delete(9);
	reopen();
	ck_assert_uint_eq(npushes, 0);
	ck_assert_uint_eq(last_id, 9);
	ck_assert_int_eq(sql_value("SELECT value FROM meta WHERE "
	    "key = 'push_last'"), 9);
	ck_assert_uint_eq(nanswers, 5);
}
END_TEST

/*
 * Pushes filed while the writer waits share its next commit. An
 * operator's lock on the file holds the writer at its first push while
 * 10,000 more are filed; once it is released, they are kept in a few
 * commits, not 10,000, and answered in order.
 */
START_TEST(test_store_push_group)
{
	sqlite3		*h;
	uint64_t	 before, commits;
	char		 msg[32];
	int		 i, len;

	start();
	ck_assert_int_eq(sqlite3_open(file, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	before = store_commits();
	for (i = 1; i <= 10000; i++) {
		len = snprintf(msg, sizeof(msg), "m%d", i);
		add(i, "dev", msg, len);
	}
	ck_assert_int_eq(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	answers_wait(10000);
	expect_answers(0, 10000, 1, "");
	commits = store_commits() - before;
	ck_assert_msg(commits >= 1 && commits <= 5, "%llu commits for 10000 "
	    "pushes", (unsigned long long)commits);
	reopen();
	ck_assert_uint_eq(npushes, 10000);
	expect_push(0, 1, "dev", "m1", 2);
	expect_push(9999, 10000, "dev", "m10000", 6);
	ck_assert_uint_eq(last_id, 10000);
}
END_TEST

/*
 * A file of schema 1, from before pushes, made here as that release
 * made it, is migrated at start: its registry stays, and it keeps
 * pushes from then on. heartbeatd -t leaves it as it is.
 */
START_TEST(test_store_push_migrate)
{
	char	*cause = NULL;

	sql_run("CREATE TABLE seen (name TEXT PRIMARY KEY, state TEXT NOT "
	    "NULL, addr TEXT NOT NULL, since INTEGER NOT NULL, last_seen "
	    "INTEGER NOT NULL, reason TEXT NOT NULL, sessions INTEGER NOT "
	    "NULL) WITHOUT ROWID; CREATE TABLE meta (key TEXT PRIMARY KEY, "
	    "value) WITHOUT ROWID; PRAGMA application_id = 1751278707; "
	    "PRAGMA user_version = 1; INSERT INTO seen VALUES ('old', "
	    "'offline', '192.0.2.1:1', 1000, 997, 'timeout', 3)");
	ck_assert_int_eq(store_check(&conf, &cause), 0);
	ck_assert_int_eq(sql_value("PRAGMA user_version"), 1);
	start();
	ck_assert_int_eq(sql_value("PRAGMA user_version"), 2);
	ck_assert_uint_eq(nloaded, 1);
	ck_assert_str_eq(loaded[0].name, "old");
	ck_assert_str_eq(loaded[0].reason, "timeout");
	ck_assert_uint_eq(loaded[0].sessions, 3);
	ck_assert_uint_eq(npushes, 0);
	ck_assert_uint_eq(last_id, 0);
	add(1, "old", "hello", 5);
	answers_wait(1);
	expect_answers(0, 1, 1, "");
	reopen();
	ck_assert_uint_eq(nloaded, 1);
	ck_assert_uint_eq(npushes, 1);
	expect_push(0, 1, "old", "hello", 5);
}
END_TEST

/* A clean stop keeps and answers the pushes still queued. */
START_TEST(test_store_push_stop)
{
	int	 i;

	start();
	for (i = 1; i <= 100; i++)
		add(i, "dev", "m", 1);
	store_close();
	ck_assert_uint_eq(nanswers, 100);
	expect_answers(0, 100, 1, "");
	reopen();
	ck_assert_uint_eq(npushes, 100);
	ck_assert_uint_eq(last_id, 100);
}
END_TEST

/*
 * On a full disk a push is answered with SQLite's error and dropped, and
 * nothing kept before is lost: a reopen on the full disk loads it all.
 * Deletes wait for room; once there is, pushes are kept again.
 */
START_TEST(test_store_push_full)
{
	char	 msg[1000], full[256];
	int	 i;

	if (disk_mount("1m") == -1)
		return;
	snprintf(full, sizeof(full), "state file %s: database or disk is "
	    "full", file);
	memset(msg, 'k', sizeof(msg));
	start();
	for (i = 1; i <= 20; i++)
		add(i, "dev", msg, sizeof(msg));
	answers_wait(20);
	expect_answers(0, 20, 1, "");
	disk_fill();
	for (i = 21; i <= 30; i++)
		add(i, "dev", msg, sizeof(msg));
	answers_wait(30);
	expect_answers(20, 30, 21, full);
	reopen();
	ck_assert_uint_eq(npushes, 20);
	expect_push(0, 1, "dev", msg, sizeof(msg));
	expect_push(19, 20, "dev", msg, sizeof(msg));
	ck_assert_uint_eq(last_id, 20);
	store_push_delete(1);
	store_push_delete(2);
	add(31, "dev", msg, sizeof(msg));
	answers_wait(31);
	expect_answers(30, 31, 31, full);
	snprintf(msg, sizeof(msg), "%s/filler", disk);
	ck_assert_int_eq(unlink(msg), 0);
	add(32, "dev", "room again", 10);
	answers_wait(32);
	expect_answers(31, 32, 32, "");
	reopen();
	ck_assert_uint_eq(npushes, 19);
	ck_assert_uint_eq(pushes[0].p.id, 3);
	expect_push(18, 32, "dev", "room again", 10);
	ck_assert_uint_eq(last_id, 32);
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
	tc = tcase_create("push");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_store_push_round_trip);
	tcase_add_test(tc, test_store_push_group);
	tcase_add_test(tc, test_store_push_migrate);
	tcase_add_test(tc, test_store_push_stop);
	tcase_add_test(tc, test_store_push_full);
	suite_add_tcase(s, tc);
	return (s);
}
