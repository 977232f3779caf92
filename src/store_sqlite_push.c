/*
 * The pending pushes of the SQLite state file (SPEC §13): the push
 * table, which the writer thread of store_sqlite.c commits together with
 * the registry's rows.
 *
 * A push is answered OK only once it is on disk, yet the event loop must
 * never wait for the disk. sqlpush_add() files a copy of the push in a
 * queue and wakes the writer at once; the writer takes everything queued
 * and commits it in one transaction, synchronous=FULL, so that it is on
 * disk when the commit returns; then it hands the pushes back to the
 * event loop (a list, and a byte on store_sqlite.c's pipe), which answers
 * each through store_push_done(), in the order they came. While the
 * writer waits for one fsync, the pushes that arrive meanwhile queue up
 * for the next commit: the pipelined pushes of many sessions share one
 * fsync (group commit).
 *
 * A commit that fails answers each of its pushes with SQLite's error and
 * drops it; its deletes go back in the queue, as the registry's changes
 * do. A delete lost to a crash only means a repeat, which at least once
 * allows. Each commit of pushes also records the highest id given (meta
 * push_last), so that ids are never reused, even once every push is
 * deleted.
 */

#include <sys/queue.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_sqlite.h"
#include "xmalloc.h"

/* A push on its way to the disk, then back to the event loop. */
struct sqlpush {
	TAILQ_ENTRY(sqlpush)	 entry;
	void			*token;
	int			 rc;		/* SQLite's; SQLITE_OK: kept */
	struct store_push	 push;		/* its msg is buf */
	char			 buf[];
};
TAILQ_HEAD(sqlpush_list, sqlpush);

/* Ids of pushes to delete, in no order. */
struct sqlpush_ids {
	uint64_t	*id;
	size_t		 n;
	size_t		 size;
};

static int	sqlpush_reserve(struct sqlpush_ids *, size_t);
static void	sqlpush_swap(struct sqlpush_ids *, struct sqlpush_ids *);
static void	sqlpush_requeue(void);
static int	sqlpush_read(sqlite3_stmt *, store_push_load_cb, void *);

const char sqlpush_schema[] =
    "CREATE TABLE push ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL,"
    " msg TEXT NOT NULL"
    ");";

/* The writer's connection and its statements, and the file's path. */
static sqlite3			*db;
static const char		*path;
static sqlite3_stmt		*st_add, *st_delete, *st_last;

/* Filed by the event loop and taken by the writer, under lock. */
static pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
static struct sqlpush_list	 queued = TAILQ_HEAD_INITIALIZER(queued);
static struct sqlpush_ids	 deletes;
/* Committed or failed, for the event loop to answer, under lock. */
static struct sqlpush_list	 done = TAILQ_HEAD_INITIALIZER(done);

/* The writer's batch, its own. */
static struct sqlpush_list	 flight = TAILQ_HEAD_INITIALIZER(flight);
static struct sqlpush_ids	 flight_deletes;

/*
 * Prepares what the writer will run on h, the state file at file, which
 * both stay valid until sqlpush_close(). Returns 0, or -1 with *cause.
 */
int
sqlpush_open(sqlite3 *h, const char *file, char **cause)
{
	db = h;
	path = file;
	if (sqlite3_prepare_v2(db, "INSERT INTO push (id, name, created, "
	    "expires, msg) VALUES (?, ?, ?, ?, ?)", -1, &st_add, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM push WHERE id = ?", -1,
	    &st_delete, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES ('push_last', max(?, coalesce((SELECT value FROM meta "
	    "WHERE key = 'push_last'), 0)))", -1, &st_last, NULL) != SQLITE_OK)
		return (sql_fail(db, cause, ""));
	return (0);
}

/* Makes room in ids for n more. Returns 0, or -1 out of memory. */
static int
sqlpush_reserve(struct sqlpush_ids *ids, size_t n)
{
	uint64_t	*id;
	size_t		 size;

	if (ids->n + n <= ids->size)
		return (0);
	size = ids->n + n > 2 * ids->size ? ids->n + n : 2 * ids->size;
	if ((id = reallocarray(ids->id, size, sizeof(*id))) == NULL)
		return (-1);
	ids->id = id;
	ids->size = size;
	return (0);
}

static void
sqlpush_swap(struct sqlpush_ids *a, struct sqlpush_ids *b)
{
	struct sqlpush_ids	 t = *a;

	*a = *b;
	*b = t;
}

/*
 * For the writer, under store_sqlite.c's lock: whether to commit now
 * rather than wait, because a push waits for its answer or, unless the
 * last commit failed, deletes pile up.
 */
int
sqlpush_due(int failing)
{
	int	 due;

	pthread_mutex_lock(&lock);
	due = !TAILQ_EMPTY(&queued) ||
	    (!failing && deletes.n >= SQL_BATCH_MAX);
	pthread_mutex_unlock(&lock);
	return (due);
}

/* For the writer: takes everything queued into its batch. */
void
sqlpush_take(void)
{
	pthread_mutex_lock(&lock);
	TAILQ_CONCAT(&flight, &queued, entry);
	sqlpush_swap(&flight_deletes, &deletes);
	pthread_mutex_unlock(&lock);
}

/*
 * For the writer, inside its transaction: writes the batch, and the
 * highest id in it. Returns SQLITE_OK, or SQLite's error.
 */
int
sqlpush_write(void)
{
	struct sqlpush	*p;
	uint64_t	 last = 0;
	size_t		 i;
	int		 rc;

	TAILQ_FOREACH(p, &flight, entry) {
		sqlite3_bind_int64(st_add, 1, (sqlite3_int64)p->push.id);
		sqlite3_bind_text(st_add, 2, p->push.name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st_add, 3, p->push.created);
		sqlite3_bind_int64(st_add, 4, p->push.expires);
		sqlite3_bind_text(st_add, 5, p->push.msg, (int)p->push.len,
		    SQLITE_STATIC);
		if ((rc = sql_step(st_add)) != SQLITE_OK)
			return (rc);
		if (p->push.id > last)
			last = p->push.id;
	}
	for (i = 0; i < flight_deletes.n; i++) {
		sqlite3_bind_int64(st_delete, 1,
		    (sqlite3_int64)flight_deletes.id[i]);
		if ((rc = sql_step(st_delete)) != SQLITE_OK)
			return (rc);
	}
	if (last == 0)
		return (SQLITE_OK);
	sqlite3_bind_int64(st_last, 1, (sqlite3_int64)last);
	return (sql_step(st_last));
}

/*
 * For the writer, once its transaction is committed (rc SQLITE_OK) or
 * rolled back: hands the batch's pushes to the event loop to answer,
 * and forgets its deletes or puts them back.
 */
void
sqlpush_finish(int rc)
{
	struct sqlpush	*p;
	int		 poke;

	TAILQ_FOREACH(p, &flight, entry)
		p->rc = rc;
	pthread_mutex_lock(&lock);
	poke = !TAILQ_EMPTY(&flight);
	TAILQ_CONCAT(&done, &flight, entry);
	if (rc != SQLITE_OK)
		sqlpush_requeue();
	pthread_mutex_unlock(&lock);
	flight_deletes.n = 0;
	if (poke)
		sql_poke();
}

/*
 * Under lock: puts the batch's deletes back with those filed since. With
 * no memory for both, the batch's are dropped: a delete lost is a push
 * sent again, which at least once allows.
 */
static void
sqlpush_requeue(void)
{
	if (sqlpush_reserve(&flight_deletes, deletes.n) == -1)
		return;
	memcpy(flight_deletes.id + flight_deletes.n, deletes.id,
	    deletes.n * sizeof(*deletes.id));
	flight_deletes.n += deletes.n;
	sqlpush_swap(&flight_deletes, &deletes);
}

/*
 * On the event loop: answers the pushes the writer has handed back, in
 * order, with "state file PATH: <SQLite's error>" for those not kept.
 */
void
sqlpush_answer(void)
{
	struct sqlpush_list	 list = TAILQ_HEAD_INITIALIZER(list);
	struct sqlpush		*p;
	char			*why = NULL;
	int			 rc = SQLITE_OK;

	pthread_mutex_lock(&lock);
	TAILQ_CONCAT(&list, &done, entry);
	pthread_mutex_unlock(&lock);
	while ((p = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, p, entry);
		if (p->rc != SQLITE_OK && p->rc != rc) {
			free(why);
			rc = p->rc;
			xasprintf(&why, "state file %s: %s", path,
			    sqlite3_errstr(rc));
		}
		store_push_done(p->token, p->rc == SQLITE_OK ? NULL : why);
		free(p);
	}
	free(why);
}

/*
 * Once the writer has stopped: answers a push it never took (filed
 * before it started, which is a misuse), and frees everything.
 */
void
sqlpush_close(void)
{
	sqlpush_take();
	sqlpush_finish(SQLITE_MISUSE);
	sqlpush_answer();
	free(deletes.id);
	free(flight_deletes.id);
	memset(&deletes, 0, sizeof(deletes));
	memset(&flight_deletes, 0, sizeof(flight_deletes));
	sqlite3_finalize(st_add);
	sqlite3_finalize(st_delete);
	sqlite3_finalize(st_last);
	st_add = st_delete = st_last = NULL;
	db = NULL;
	path = NULL;
}

/*
 * Hands every pending push to cb in id order, and sets *last_id to the
 * highest id ever given. It reads through a connection of its own, so
 * that it may run before the writer starts or while it writes. Returns
 * 0, or -1 with *cause.
 */
int
sqlpush_load(store_push_load_cb cb, void *arg, uint64_t *last_id,
    char **cause)
{
	sqlite3		*h = NULL;
	sqlite3_stmt	*st = NULL;
	int64_t		 last;
	int		 rc = -1;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(h, SQL_BUSY_MS);
	if (sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sql_int(h, "SELECT max(coalesce((SELECT value FROM meta WHERE "
	    "key = 'push_last'), 0), coalesce((SELECT max(id) FROM push), 0))",
	    &last) == -1 ||
	    sqlite3_prepare_v2(h, "SELECT id, name, created, expires, msg "
	    "FROM push ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (sqlpush_read(st, cb, arg) != SQLITE_DONE ||
	    sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	*last_id = (uint64_t)last;
	rc = 0;
fail:
	if (rc == -1)
		sql_fail(h, cause, "cannot read pushes");
	sqlite3_finalize(st);
	sqlite3_close(h);
	return (rc);
}

/* Steps st to its end, each row a push for cb; returns the last step's. */
static int
sqlpush_read(sqlite3_stmt *st, store_push_load_cb cb, void *arg)
{
	struct store_push	 p;
	int			 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p.id = (uint64_t)sqlite3_column_int64(st, 0);
		strlcpy(p.name, (const char *)sqlite3_column_text(st, 1),
		    sizeof(p.name));
		p.created = sqlite3_column_int64(st, 2);
		p.expires = sqlite3_column_int64(st, 3);
		if ((p.msg = sqlite3_column_blob(st, 4)) == NULL)
			p.msg = "";
		p.len = (size_t)sqlite3_column_bytes(st, 4);
		cb(&p, arg);
	}
	return (rc);
}

/*
 * Files a copy of push for the writer, and wakes it if nothing was
 * queued: when something was, whoever filed it woke the writer already.
 */
void
sqlpush_add(const struct store_push *push, void *token)
{
	struct sqlpush	*p;
	int		 first;

	p = xmalloc(sizeof(*p) + push->len);
	p->token = token;
	p->rc = SQLITE_OK;
	p->push = *push;
	memcpy(p->buf, push->msg, push->len);
	p->push.msg = p->buf;
	pthread_mutex_lock(&lock);
	first = TAILQ_EMPTY(&queued);
	TAILQ_INSERT_TAIL(&queued, p, entry);
	pthread_mutex_unlock(&lock);
	if (first)
		sql_wake();
}

/* Files the delete of push id; a pile of them wakes the writer. */
void
sqlpush_delete(uint64_t id)
{
	int	 wake;

	pthread_mutex_lock(&lock);
	if (sqlpush_reserve(&deletes, 1) == -1)
		fatalx("%s: out of memory", __func__);
	deletes.id[deletes.n++] = id;
	wake = deletes.n == SQL_BATCH_MAX;
	pthread_mutex_unlock(&lock);
	if (wake)
		sql_wake();
}
