#ifndef SEEN_H
#define SEEN_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"
#include "util.h"

struct store_seen;

/* A name's state (SPEC §11); seen_states[] holds the contract's words. */
enum seen_state {
	SEEN_ONLINE,
	SEEN_OFFLINE,
	SEEN_HELD,
	SEEN__COUNT
};
extern const char *const seen_states[SEEN__COUNT];

/*
 * Why a name last went offline: a close reason (enum hb_reason), or one
 * of the registry's own, which end no connection.
 */
#define SEEN_RENAMED	REASON__COUNT		/* "renamed": HELLO again */
#define SEEN_LOST	(REASON__COUNT + 1)	/* "lost": in a crash */
#define SEEN_NOREASON	(REASON__COUNT + 2)	/* "-": never offline */

/*
 * One name the daemon has seen. An online name's last byte is its
 * client's last_rx, read when asked; last_seen holds it once offline.
 * Flap damping counts the sessions a name starts in a window of
 * SEEN_FLAP_WINDOW s from flap_start; while the name is held,
 * flap_start is when the hold ends.
 */
struct seen_entry {
	RB_ENTRY(seen_entry)	 node;		/* by name */
	TAILQ_ENTRY(seen_entry)	 entry;		/* offline or held */
	union {
		struct sockaddr		 sa;
		struct sockaddr_in	 sin;
		struct sockaddr_in6	 sin6;
	}			 addr;		/* AF_UNSPEC: none */
	int64_t			 since;		/* Unix s, entered state */
	int64_t			 last_seen;	/* Unix s */
	int64_t			 flap_start;	/* Unix s */
	uint64_t		 sessions;
	uint32_t		 flap_count;	/* sessions from flap_start */
	uint8_t			 state;		/* enum seen_state */
	uint8_t			 reason;	/* see SEEN_RENAMED */
	char			 name[];
};

#define SEEN_FLAP_WINDOW	60	/* s over which sessions are counted */

/* What seen_admit() says of a HELLO for a name. */
enum seen_admit {
	SEEN_ADMITTED,
	SEEN_REFUSED,		/* the name is held */
	SEEN_HOLDS		/* one session too many: held from now */
};

/* The fields of a SEEN line, as SEEN and GET /api/v1/seen show them. */
struct seen_view {
	const char	*name;
	const char	*state;
	char		 addr[ADDR_STRLEN];	/* "-": none known */
	char		 since[32];		/* UTC, ISO 8601 */
	int64_t		 for_secs;		/* s in that state */
	char		 last_seen[32];		/* UTC, ISO 8601 */
	const char	*reason;		/* "-": never offline */
	uint64_t	 sessions;
};

/* Decides whether an entry belongs to a SEEN list. */
typedef int	(*seen_filter)(const struct seen_entry *, int64_t, void *);

void		 seen_configure(const struct hb_config *);
void		 seen_online(const char *, const struct sockaddr *,
		    int64_t);
void		 seen_offline(const char *, int, int64_t, int64_t);
enum seen_admit	 seen_admit(const char *, int64_t, uint64_t *);
int		 seen_release(const char *, int64_t);
struct seen_entry *seen_find(const char *);
size_t		 seen_select(seen_filter, void *, int64_t,
		    struct seen_entry ***);
void		 seen_view(const struct seen_entry *, int64_t,
		    struct seen_view *);
int		 seen_format(const struct seen_entry *, int64_t, char *,
		    size_t);
const char	*seen_reason(int);
void		 seen_load(const struct store_seen *, void *);
void		 seen_tick(int64_t);
size_t		 seen_count(void);
void		 seen_free(void);

#define SEEN_LINE_MAX	384	/* bytes in a SEEN line */

#endif /* SEEN_H */
