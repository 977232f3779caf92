/*
 * The store: where the last-seen registry and the pending pushes outlive
 * the process. The registry itself lives in memory (seen.c),
 * which SEEN always answers from; a store only loads it at start and
 * keeps a copy of every change. The backend is chosen by the config:
 * none for memory only, SQLite for [state] file, and Redis for a fleet
 * ([cluster] redis). A backend leaves out the operations it has no use
 * for.
 *
 * The state file cannot change on a reload: the registry would have to
 * be written anew to the new file, or merged with what it holds, and
 * neither is what an operator editing a path expects. A reload that
 * changes it fails, and a restart moves to the new file.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "xmalloc.h"

static const struct store_backend *store_backend_of(
		    const struct hb_config *);

static const struct store_backend store_memory = {
	"memory", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

static const struct store_backend	*backend = &store_memory;
static store_push_done_cb		 push_done;
static char				*opened;	/* its file */

/* A fleet's store is its Redis, whatever [state] file says. */
static const struct store_backend *
store_backend_of(const struct hb_config *conf)
{
	if (conf->cluster_redis != NULL)
		return (&store_redis);
	return (conf->state_file != NULL ? &store_sqlite : &store_memory);
}

/*
 * For heartbeatd -t: whether conf's store could be opened, without
 * creating or changing anything. Returns 0, or -1 with *cause.
 */
int
store_check(const struct hb_config *conf, char **cause)
{
	const struct store_backend	*b = store_backend_of(conf);

	return (b->check != NULL ? b->check(conf, cause) : 0);
}

/*
 * Opens conf's store, at start. Returns 0, or -1 with *cause: a file that
 * cannot be opened or is not heartbeatd's, which is a config error.
 */
int
store_open(const struct hb_config *conf, char **cause)
{
	const struct store_backend	*b = store_backend_of(conf);

	if (b->open != NULL && b->open(conf, cause) == -1)
		return (-1);
	backend = b;
	free(opened);
	opened = conf->state_file != NULL ? xstrdup(conf->state_file) : NULL;
	return (0);
}

/*
 * Hands every record of the open store to cb, once, after store_open();
 * from then on the store takes changes. Returns 0, or -1 with *cause.
 */
int
store_load(store_load_cb cb, void *arg, char **cause)
{
	return (backend->load != NULL ? backend->load(cb, arg, cause) : 0);
}

/* Keeps rec, the new state of its name; never waits. */
void
store_put(const struct store_seen *rec)
{
	if (backend->put != NULL)
		backend->put(rec);
}

/* Drops the record of name; never waits. */
void
store_forget(const char *name)
{
	if (backend->forget != NULL)
		backend->forget(name);
}

/* Tells the store whom to call once a push it was given is kept. */
void
store_push_done_set(store_push_done_cb cb)
{
	push_done = cb;
}

/*
 * Hands every pending push of the open store to cb, in id order, and
 * sets *last_id to the highest id it ever gave (memory: see below).
 * Returns 0, or -1 with *cause.
 */
int
store_push_load(store_push_load_cb cb, void *arg, uint64_t *last_id,
    char **cause)
{
	struct timespec	 ts;

	if (backend->push_load == NULL) {
		/*
		 * Memory keeps no ids across a restart, and a device drops
		 * an id it has seen as a repeat: ids go on from the clock,
		 * in microseconds, which no restart goes back below.
		 */
		clock_gettime(CLOCK_REALTIME, &ts);
		*last_id = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		return (0);
	}
	*last_id = 0;
	return (backend->push_load(cb, arg, last_id, cause));
}

/*
 * Keeps push; never waits. Returns 1 when the push is kept already (in
 * memory), or 0 when the done callback will say, later, on the loop.
 */
int
store_push_add(const struct store_push *push, void *token)
{
	if (backend->push_add == NULL)
		return (1);
	backend->push_add(push, token);
	return (0);
}

/* For a backend: reports, on the event loop, how the push of token fared. */
void
store_push_done(void *token, const char *error)
{
	push_done(token, error);
}

/* Forgets the push of id (acknowledged, expired or cancelled). */
void
store_push_delete(uint64_t id)
{
	if (backend->push_delete != NULL)
		backend->push_delete(id);
}

/*
 * For the benchmarks: how many times the open store has committed to
 * disk, with SQLite one fsync of its WAL each (a checkpoint, each 1000
 * pages, adds two).
 */
uint64_t
store_commits(void)
{
	return (backend->commits != NULL ? backend->commits() : 0);
}

/* Returns 0 when a reload to conf keeps the store, else -1 with *cause. */
int
store_reloadable(const struct hb_config *conf, char **cause)
{
	if (opened == NULL ? conf->state_file == NULL :
	    conf->state_file != NULL && strcmp(opened, conf->state_file) == 0)
		return (0);
	*cause = xstrdup("state.file cannot change on reload");
	return (-1);
}

/* Writes out every change taken and closes the store, at a clean stop. */
void
store_close(void)
{
	if (backend->close != NULL)
		backend->close();
	backend = &store_memory;
	free(opened);
	opened = NULL;
}
