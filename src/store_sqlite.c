/*
 * The SQLite state file ([state] file, SPEC §11): the last-seen
 * registry here, the pending pushes (SPEC §13) in store_sqlite_push.c.
 *
 * The event loop never waits for the disk. put and forget only take a
 * mutex and file the change in a batch keyed by name, so that a name
 * that changes many times between two commits is written once and the
 * batch never holds more than one change per name. One writer thread
 * commits the batch in one transaction at least once a second, sooner
 * when it is large or a push waits, and tells the event loop through a
 * pipe when writing fails or works again (a failed batch is retried,
 * newer changes first, a second later) and when pushes are kept. The
 * event loop's own thread waits on the file only at start (open, check,
 * load) and at a clean stop (the last batch, then join).
 *
 * The file: WAL, so that an operator's sqlite3 can read while the daemon
 * writes; synchronous=FULL, so that a push answered OK is on disk when
 * its commit returns, even if the machine dies: each commit costs one
 * fsync of the WAL, the registry's once a second too. PRAGMA
 * application_id marks the file as heartbeatd's, and PRAGMA user_version
 * is its schema, which a newer heartbeatd migrates at start: version 1
 * had the registry, version 2 adds the pushes. Each commit also records
 * when it was made (meta "alive"): after a crash, the names still online
 * went offline then.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/tree.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "daemon.h"
#include "log.h"
#include "store.h"
#include "store_sqlite.h"
#include "xmalloc.h"

#define SQL_APP_ID	0x68626473	/* "hbds" */
#define SQL_SCHEMA	2		/* PRAGMA user_version */

/* One name's latest change, waiting for the writer. */
struct sql_op {
	RB_ENTRY(sql_op)	 node;
	int			 forget;
	struct store_seen	 rec;
};
RB_HEAD(sql_ops, sql_op);

static int	sql_op_cmp(struct sql_op *, struct sql_op *);
static int	sql_identify(sqlite3 *, int64_t *, char **);
static int	sql_create(int64_t, char **);
static int	sql_prepare(char **);
static int	sql_check(const struct hb_config *, char **);
static int	sql_open(const struct hb_config *, char **);
static int	sql_load(store_load_cb, void *, char **);
static int	sql_read(store_load_cb, void *, char **);
static void	sql_file(struct sql_op *);
static void	sql_put(const struct store_seen *);
static void	sql_forget(const char *);
static void	sql_close(void);
static uint64_t	sql_commits(void);
static void	*sql_writer(void *);
static int	sql_due(void);
static void	sql_commit(struct sql_ops *);
static int	sql_write(struct sql_ops *);
static int	sql_apply(const struct sql_op *);
static void	sql_requeue(struct sql_ops *);
static void	sql_tell(const char *, const char *);
static void	sql_news_cb(evutil_socket_t, short, void *);

/* libbsd leaves __unused undefined, which RB_*_STATIC rely on. */
#define RB_STATIC	__attribute__((__unused__)) static
RB_PROTOTYPE_INTERNAL(sql_ops, sql_op, node, sql_op_cmp, RB_STATIC)
RB_GENERATE_INTERNAL(sql_ops, sql_op, node, sql_op_cmp, RB_STATIC)

const struct store_backend store_sqlite = {
	"sqlite", sql_check, sql_open, sql_load, sql_put, sql_forget,
	sql_close, sqlpush_load, sqlpush_add, sqlpush_delete, sql_commits
};

static const char sql_schema[] =
    "CREATE TABLE seen ("
    " name TEXT PRIMARY KEY,"
    " state TEXT NOT NULL,"
    " addr TEXT NOT NULL,"
    " since INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " reason TEXT NOT NULL,"
    " sessions INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;";

/* The file; after load, only the writer thread uses it, until joined. */
static sqlite3		*db;
static char		*path;
static sqlite3_stmt	*st_put, *st_forget, *st_alive;
static pthread_t	 writer;
static int		 writing;	/* the writer thread runs */
static int		 failing;	/* the writer's last commit failed */
static uint64_t		 commits;	/* under lock */
static int		 news_fd[2] = { -1, -1 };
static struct event	*ev_news;

/* Shared between the event loop and the writer, under lock. */
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wake;
static struct sql_ops	 pending = RB_INITIALIZER(&pending);
static size_t		 npending;
static int		 stopping;
static char		*news;		/* for the event loop to log */

static int
sql_op_cmp(struct sql_op *a, struct sql_op *b)
{
	return (strcmp(a->rec.name, b->rec.name));
}

/* Sets *cause to what SQLite says went wrong with h; returns -1. */
int
sql_fail(sqlite3 *h, char **cause, const char *what)
{
	int	 error = h != NULL ? sqlite3_system_errno(h) : 0;

	xasprintf(cause, "state file %s: %s%s%s%s%s", path, what,
	    *what != '\0' ? ": " : "",
	    h != NULL ? sqlite3_errmsg(h) : "out of memory",
	    error != 0 ? ": " : "", error != 0 ? strerror(error) : "");
	return (-1);
}

/* Runs a query of one integer. Returns 0, or -1 (see sqlite3_errmsg()). */
int
sql_int(sqlite3 *h, const char *sql, int64_t *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 0 : -1);
}

/*
 * Tells heartbeatd's file from any other by its application_id, and sets
 * *version to its schema: 0 for a file that holds nothing at all, not
 * even a table, which is new. Returns 0, or -1 with *cause.
 */
static int
sql_identify(sqlite3 *h, int64_t *version, char **cause)
{
	int64_t		 app, objects;

	if (sql_int(h, "PRAGMA application_id", &app) == -1 ||
	    sql_int(h, "PRAGMA user_version", version) == -1 ||
	    sql_int(h, "SELECT count(*) FROM sqlite_master", &objects) == -1)
		return (sql_fail(h, cause, "not a heartbeatd state file"));
	if (app == 0 && *version == 0 && objects == 0)
		return (0);
	if (app != SQL_APP_ID) {
		xasprintf(cause, "state file %s: not a heartbeatd state file: "
		    "a SQLite database of another application", path);
		return (-1);
	}
	if (*version < 1 || *version > SQL_SCHEMA) {
		xasprintf(cause, "state file %s: schema version %lld, and "
		    "this heartbeatd knows versions 1 to %d", path,
		    (long long)*version, SQL_SCHEMA);
		return (-1);
	}
	return (0);
}

/*
 * Makes a new file (version 0) heartbeatd's, or brings an older one up
 * to this schema, in one transaction: the tables of every version since,
 * the id and the version.
 */
static int
sql_create(int64_t version, char **cause)
{
	char	*sql;
	int	 rc;

	xasprintf(&sql, "BEGIN; %s%s PRAGMA application_id = %d; "
	    "PRAGMA user_version = %d; COMMIT;", version < 1 ? sql_schema : "",
	    version < 2 ? sqlpush_schema : "", SQL_APP_ID, SQL_SCHEMA);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return (sql_fail(db, cause, version == 0 ? "cannot initialise" :
		    "cannot migrate"));
	return (0);
}

static int
sql_prepare(char **cause)
{
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO seen (name, state, "
	    "addr, since, last_seen, reason, sessions) VALUES (?, ?, ?, ?, ?, "
	    "?, ?)", -1, &st_put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM seen WHERE name = ?", -1,
	    &st_forget, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES ('alive', ?)", -1, &st_alive, NULL) != SQLITE_OK)
		return (sql_fail(db, cause, ""));
	return (sqlpush_open(db, path, cause));
}

/*
 * For heartbeatd -t: a file that is there must be heartbeatd's, and one
 * that is not must have a directory to be made in. The file is read as
 * immutable, so that the check leaves no -wal or -shm file behind, owned
 * by whoever ran it.
 */
static int
sql_check(const struct hb_config *conf, char **cause)
{
	struct stat	 st;
	sqlite3		*h = NULL;
	char		*uri, *dir;
	int64_t		 version;
	int		 rc = 0, error = 0;

	path = xstrdup(conf->state_file);
	if (stat(path, &st) == 0) {
		uri = sqlite3_mprintf("file:%s?immutable=1", path);
		if (sqlite3_open_v2(uri, &h, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_URI, NULL) != SQLITE_OK)
			rc = sql_fail(h, cause, "cannot open");
		else
			rc = sql_identify(h, &version, cause);
		sqlite3_free(uri);
		sqlite3_close(h);
	} else if ((error = errno) == ENOENT) {
		dir = xstrdup(path);
		if (stat(dirname(dir), &st) == -1)
			error = errno;
		else
			error = S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
		free(dir);
	}
	if (error != 0) {
		xasprintf(cause, "state file %s: %s", path, strerror(error));
		rc = -1;
	}
	free(path);
	path = NULL;
	return (rc);
}

/*
 * Opens conf's state file, making it if it is new or migrating it if it
 * is older, and prepares what the writer will run. Returns 0, or -1 with
 * *cause.
 */
static int
sql_open(const struct hb_config *conf, char **cause)
{
	pthread_condattr_t	 attr;
	int64_t			 version;

	path = xstrdup(conf->state_file);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sql_fail(db, cause, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(db, SQL_BUSY_MS);
	if (sql_identify(db, &version, cause) == -1 ||
	    (version < SQL_SCHEMA && sql_create(version, cause) == -1))
		goto fail;
	if (sqlite3_db_readonly(db, "main") == 1) {
		xasprintf(cause, "state file %s: not writable", path);
		goto fail;
	}
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = FULL;", NULL, NULL, NULL) != SQLITE_OK) {
		sql_fail(db, cause, "");
		goto fail;
	}
	if (sql_prepare(cause) == -1)
		goto fail;
	if (pipe2(news_fd, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("%s: pipe2", __func__);
	if ((ev_news = event_new(hb_base, news_fd[0], EV_READ | EV_PERSIST,
	    sql_news_cb, NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(ev_news, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &attr);
	pthread_condattr_destroy(&attr);
	return (0);
fail:
	sql_close();
	return (-1);
}

/*
 * Reads every record into cb, the names that were online at a crash
 * made offline, reason lost, at the last commit; then starts the writer,
 * with no signal of the daemon's to handle.
 */
static int
sql_load(store_load_cb cb, void *arg, char **cause)
{
	sigset_t	 all, old;
	int		 error;

	if (sql_read(cb, arg, cause) == -1)
		return (-1);
	failing = 0;
	commits = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&writer, NULL, sql_writer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0)
		fatalx("%s: pthread_create: %s", __func__, strerror(error));
	writing = 1;
	return (0);
}

static int
sql_read(store_load_cb cb, void *arg, char **cause)
{
	struct store_seen	 rec;
	sqlite3_stmt		*st;
	int			 rc;

	if (sqlite3_exec(db, "BEGIN; UPDATE seen SET state = 'offline', "
	    "reason = 'lost', since = coalesce((SELECT value FROM meta WHERE "
	    "key = 'alive'), since), last_seen = coalesce((SELECT value FROM "
	    "meta WHERE key = 'alive'), last_seen) WHERE state = 'online';",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT name, state, addr, since, "
	    "last_seen, reason, sessions FROM seen ORDER BY since", -1, &st,
	    NULL) != SQLITE_OK)
		return (sql_fail(db, cause, "cannot read"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		strlcpy(rec.name, (const char *)sqlite3_column_text(st, 0),
		    sizeof(rec.name));
		rec.state = (const char *)sqlite3_column_text(st, 1);
		strlcpy(rec.addr, (const char *)sqlite3_column_text(st, 2),
		    sizeof(rec.addr));
		rec.since = sqlite3_column_int64(st, 3);
		rec.last_seen = sqlite3_column_int64(st, 4);
		rec.reason = (const char *)sqlite3_column_text(st, 5);
		rec.sessions = sqlite3_column_int64(st, 6);
		cb(&rec, arg);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return (sql_fail(db, cause, "cannot read"));
	return (0);
}

/* Files op as its name's latest change; wakes the writer for a big batch. */
static void
sql_file(struct sql_op *op)
{
	struct sql_op	*old;

	pthread_mutex_lock(&lock);
	if ((old = RB_INSERT(sql_ops, &pending, op)) != NULL) {
		old->forget = op->forget;
		old->rec = op->rec;
	} else if (++npending == SQL_BATCH_MAX)
		pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	if (old != NULL)
		free(op);
}

static void
sql_put(const struct store_seen *rec)
{
	struct sql_op	*op;

	op = xcalloc(1, sizeof(*op));
	op->rec = *rec;
	sql_file(op);
}

static void
sql_forget(const char *name)
{
	struct sql_op	*op;

	op = xcalloc(1, sizeof(*op));
	op->forget = 1;
	strlcpy(op->rec.name, name, sizeof(op->rec.name));
	sql_file(op);
}

/* For the benchmarks: the commits so far, each one fsync of the WAL. */
static uint64_t
sql_commits(void)
{
	uint64_t	 n;

	pthread_mutex_lock(&lock);
	n = commits;
	pthread_mutex_unlock(&lock);
	return (n);
}

/* Wakes the writer, to commit what is queued now. */
void
sql_wake(void)
{
	pthread_mutex_lock(&lock);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

/*
 * Commits what is pending at least once a second, and at once when
 * sql_due() says so, until told to stop; then commits what is left,
 * once. Pushes filed while a commit waits for its fsync go in the next.
 */
static void *
sql_writer(void *arg)
{
	struct sql_ops	 batch;
	struct timespec	 deadline;
	int		 stop;

	do {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec++;
		pthread_mutex_lock(&lock);
		while (!sql_due() && pthread_cond_timedwait(&wake, &lock,
		    &deadline) != ETIMEDOUT)
			;
		batch = pending;
		RB_INIT(&pending);
		npending = 0;
		stop = stopping;
		pthread_mutex_unlock(&lock);
		sqlpush_take();
		sql_commit(&batch);
	} while (!stop);
	return (NULL);
}

/*
 * Under lock: whether the writer must commit before its second is up: to
 * stop, for a push that waits for its answer, or for a big batch, which
 * can wait its second when writing fails.
 */
static int
sql_due(void)
{
	return (stopping || (!failing && npending >= SQL_BATCH_MAX) ||
	    sqlpush_due(failing));
}

/*
 * Writes batch and the pushes' in one transaction, and frees batch; a
 * batch that fails goes back to be tried again, and its pushes are
 * answered with the error.
 */
static void
sql_commit(struct sql_ops *batch)
{
	struct sql_op	*op, *next;
	int		 rc;

	if ((rc = sql_write(batch)) == SQLITE_OK) {
		RB_FOREACH_SAFE(op, sql_ops, batch, next) {
			RB_REMOVE(sql_ops, batch, op);
			free(op);
		}
		pthread_mutex_lock(&lock);
		commits++;
		pthread_mutex_unlock(&lock);
		if (failing)
			sql_tell("writing again", "");
		failing = 0;
	} else {
		if (!failing)
			sql_tell("write failed, retrying every second: ",
			    sqlite3_errmsg(db));
		failing = 1;
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sql_requeue(batch);
	}
	sqlpush_finish(rc);
}

/*
 * Writes batch, the pushes' changes and the time, and commits. Returns
 * SQLITE_OK, or SQLite's error with the transaction still to roll back.
 */
static int
sql_write(struct sql_ops *batch)
{
	struct sql_op	*op;
	int		 rc;

	if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
		return (rc);
	RB_FOREACH(op, sql_ops, batch) {
		if ((rc = sql_apply(op)) != SQLITE_OK)
			return (rc);
	}
	if ((rc = sqlpush_write()) != SQLITE_OK)
		return (rc);
	sqlite3_bind_int64(st_alive, 1, (sqlite3_int64)time(NULL));
	if ((rc = sql_step(st_alive)) != SQLITE_OK)
		return (rc);
	return (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL));
}

/* Runs st, which returns no rows. Returns SQLITE_OK, or SQLite's error. */
int
sql_step(sqlite3_stmt *st)
{
	int	 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* Writes one change. Returns SQLITE_OK, or SQLite's error. */
static int
sql_apply(const struct sql_op *op)
{
	sqlite3_stmt	*st = op->forget ? st_forget : st_put;

	sqlite3_bind_text(st, 1, op->rec.name, -1, SQLITE_STATIC);
	if (!op->forget) {
		sqlite3_bind_text(st, 2, op->rec.state, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, op->rec.addr, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, op->rec.since);
		sqlite3_bind_int64(st, 5, op->rec.last_seen);
		sqlite3_bind_text(st, 6, op->rec.reason, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)op->rec.sessions);
	}
	return (sql_step(st));
}

/* Puts a failed batch back, behind any newer change of the same name. */
static void
sql_requeue(struct sql_ops *batch)
{
	struct sql_op	*op, *next;

	pthread_mutex_lock(&lock);
	RB_FOREACH_SAFE(op, sql_ops, batch, next) {
		RB_REMOVE(sql_ops, batch, op);
		if (RB_INSERT(sql_ops, &pending, op) != NULL)
			free(op);
		else
			npending++;
	}
	pthread_mutex_unlock(&lock);
}

/* From the writer: has the event loop log what and detail, in order. */
static void
sql_tell(const char *what, const char *detail)
{
	char	*line, *both;

	if (asprintf(&line, "%s%s", what, detail) == -1)
		return;
	pthread_mutex_lock(&lock);
	if (news == NULL) {
		news = line;
		line = NULL;
	} else if (asprintf(&both, "%s\n%s", news, line) != -1) {
		free(news);
		news = both;
	}
	pthread_mutex_unlock(&lock);
	free(line);
	sql_poke();
}

/* From the writer: has the event loop look at what it has to say. */
void
sql_poke(void)
{
	while (write(news_fd[1], "", 1) == -1 && errno == EINTR)
		;
}

/* Logs what the writer had to say, and answers the pushes it kept. */
static void
sql_news_cb(evutil_socket_t fd, short what, void *arg)
{
	char	 buf[64], *lines, *line, *next;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&lock);
	lines = news;
	news = NULL;
	pthread_mutex_unlock(&lock);
	for (next = lines; (line = strsep(&next, "\n")) != NULL; )
		log_warnx("state file %s: %s", path, line);
	free(lines);
	sqlpush_answer();
}

/*
 * Stops the writer once it has committed everything filed so far, logs
 * what it had to say, answers the pushes of its last commit, and closes
 * the file.
 */
static void
sql_close(void)
{
	struct sql_op	*op;

	if (writing) {
		pthread_mutex_lock(&lock);
		stopping = 1;
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&lock);
		pthread_join(writer, NULL);
		writing = 0;
		stopping = 0;
		sql_news_cb(news_fd[0], EV_READ, NULL);
		log_debug("state file %s: %llu commits", path,
		    (unsigned long long)commits);
	}
	sqlpush_close();
	while ((op = RB_ROOT(&pending)) != NULL) {
		RB_REMOVE(sql_ops, &pending, op);
		free(op);
	}
	npending = 0;
	sqlite3_finalize(st_put);
	sqlite3_finalize(st_forget);
	sqlite3_finalize(st_alive);
	st_put = st_forget = st_alive = NULL;
	sqlite3_close(db);
	db = NULL;
	if (ev_news != NULL) {
		event_free(ev_news);
		ev_news = NULL;
		pthread_cond_destroy(&wake);
	}
	if (news_fd[0] != -1) {
		close(news_fd[0]);
		close(news_fd[1]);
		news_fd[0] = news_fd[1] = -1;
	}
	free(path);
	path = NULL;
}
