#ifndef STORE_SQLITE_H
#define STORE_SQLITE_H

#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/*
 * Between the two halves of the SQLite state file: store_sqlite.c, the
 * file, the registry's rows and the writer thread, and
 * store_sqlite_push.c, the pending pushes that thread commits with them.
 * Nothing else includes this.
 */

#define SQL_BATCH_MAX	4096		/* changes that wake the writer early */
#define SQL_BUSY_MS	5000		/* for an operator's lock */

/* store_sqlite.c */
int		 sql_fail(sqlite3 *, char **, const char *);
int		 sql_int(sqlite3 *, const char *, int64_t *);
int		 sql_step(sqlite3_stmt *);
void		 sql_wake(void);
void		 sql_poke(void);

/*
 * store_sqlite_push.c. The writer calls sqlpush_due() (under its own
 * lock, when it wonders whether to wait), then sqlpush_take() to start
 * a batch, sqlpush_write() inside its transaction and sqlpush_finish()
 * with how the commit went; the event loop calls sqlpush_answer() when
 * poked.
 */
extern const char	 sqlpush_schema[];
int		 sqlpush_open(sqlite3 *, const char *, char **);
int		 sqlpush_due(int);
void		 sqlpush_take(void);
int		 sqlpush_write(void);
void		 sqlpush_finish(int);
void		 sqlpush_answer(void);
void		 sqlpush_close(void);
int		 sqlpush_load(store_push_load_cb, void *, uint64_t *, char **);
void		 sqlpush_add(const struct store_push *, void *);
void		 sqlpush_delete(uint64_t);

#endif /* STORE_SQLITE_H */
