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
};

extern const struct store_backend	store_sqlite;

int		 store_check(const struct hb_config *, char **);
int		 store_open(const struct hb_config *, char **);
int		 store_load(store_load_cb, void *, char **);
void		 store_put(const struct store_seen *);
void		 store_forget(const char *);
int		 store_reloadable(const struct hb_config *, char **);
void		 store_close(void);

#endif /* STORE_H */
