#ifndef STORE_H
#define STORE_H

#include <stdint.h>

#include "heartbeatd.h"
#include "util.h"

/*
 * A last-seen registry entry as a store keeps it: words rather than
 * enums, so that the file reads as the SEEN line does. When put, state
 * and reason point to static strings; when loaded, into the backend's
 * row, valid during the callback only.
 */
struct store_seen {
	char		 name[HB_NAME_MAX + 1];
	const char	*state;
	char		 addr[ADDR_STRLEN];	/* "": none known */
	int64_t		 since;			/* Unix s */
	int64_t		 last_seen;		/* Unix s */
	const char	*reason;
	uint64_t	 sessions;
};

typedef void	(*store_load_cb)(const struct store_seen *, void *);

/*
 * A pending push (SPEC §13) as a store keeps it. When added, msg points
 * into the caller's push; when loaded, into the backend's row, valid
 * during the callback only.
 */
struct store_push {
	uint64_t	 id;
	char		 name[HB_NAME_MAX + 1];
	int64_t		 created;		/* Unix ms */
	int64_t		 expires;		/* Unix ms */
	const char	*msg;
	size_t		 len;
};

typedef void	(*store_push_load_cb)(const struct store_push *, void *);

/*
 * Called on the event loop once a push given to store_push_add() is kept
 * (error NULL) or could not be (error says why, e.g. "state file PATH:
 * database or disk is full"). token is the one given to store_push_add().
 */
typedef void	(*store_push_done_cb)(void *token, const char *error);

/*
 * One way of keeping the registry beyond the process: none (memory), an
 * SQLite file, later Redis. put and forget are called from the event
 * loop and must never wait for a disk or a network.
 */
struct store_backend {
	const char	*name;
	int		 (*check)(const struct hb_config *, char **);
	int		 (*open)(const struct hb_config *, char **);
	int		 (*load)(store_load_cb, void *, char **);
	void		 (*put)(const struct store_seen *);
	void		 (*forget)(const char *);
	void		 (*close)(void);

	/*
	 * Pending pushes. push_load hands over every kept push and the
	 * highest id ever given (*last_id, also of pushes since deleted).
	 * push_add keeps a push durably and calls the done callback on
	 * the event loop; push_delete forgets one, without a callback.
	 */
	int		 (*push_load)(store_push_load_cb, void *, uint64_t *,
			    char **);
	void		 (*push_add)(const struct store_push *, void *);
	void		 (*push_delete)(uint64_t);

	/* The commits to disk so far, for the benchmarks. */
	uint64_t	 (*commits)(void);
};

extern const struct store_backend	store_sqlite;
extern const struct store_backend	store_redis;

/* store_redis.c: a name's pushes, for the node it comes online at. */
void		 store_redis_fetch(const char *, store_push_load_cb, void *);
/* A name's record, NULL when none, or the error why. */
typedef void	(*store_seen_cb)(void *, const struct store_seen *,
		    const char *);
void		 store_redis_seen(const char *, store_seen_cb, void *);

int		 store_check(const struct hb_config *, char **);
int		 store_open(const struct hb_config *, char **);
int		 store_load(store_load_cb, void *, char **);
void		 store_put(const struct store_seen *);
void		 store_forget(const char *);
int		 store_reloadable(const struct hb_config *, char **);
void		 store_push_done_set(store_push_done_cb);
int		 store_push_load(store_push_load_cb, void *, uint64_t *,
		    char **);
int		 store_push_add(const struct store_push *, void *);
void		 store_push_delete(uint64_t);
void		 store_push_done(void *, const char *);
uint64_t	 store_commits(void);
void		 store_close(void);

#endif /* STORE_H */
