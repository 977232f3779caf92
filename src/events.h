#ifndef EVENTS_H
#define EVENTS_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"

struct client;

/*
 * The kinds of event. events_verbs[] holds their verbs, the first word of
 * every event and log line: the one list of them, which WATCH filters by.
 */
enum event_kind {
	EVENT_CONNECT,
	EVENT_HELLO,
	EVENT_DATA,
	EVENT_DISCONNECT,
	EVENT_REJECT,
	EVENT_FLAPPING,
	EVENT_PUSH,
	EVENT_DELIVERED,
	EVENT_ACKED,
	EVENT_EXPIRED,
	EVENT__COUNT
};
extern const char *const events_verbs[EVENT__COUNT];

/* A set of kinds: bit 1 << kind for each; EVENT_ALL holds every one. */
#define EVENT_BIT(kind)	(1U << (kind))
#define EVENT_ALL	(EVENT_BIT(EVENT__COUNT) - 1)
int	 events_verb(const char *, size_t);

/*
 * The one place where client events happen: each gets the next sequence
 * number, moves the counters, writes its operator log line and is handed
 * to the sinks (the WATCH and HTTP feeds) as "verb #id key=value ...".
 */
void	 events_connect(const struct client *);
void	 events_hello(const struct client *);
void	 events_renamed(const struct client *);
void	 events_data(const struct client *, const char *, size_t);
void	 events_disconnect(const struct client *, enum hb_reason);
void	 events_reject(const struct sockaddr *, enum hb_reason);
void	 events_flapping(const char *, uint64_t, uint64_t);
void	 events_push(const char *, uint64_t);
void	 events_delivered(const struct client *, uint64_t);
void	 events_acked(const struct client *, uint64_t);
void	 events_expired(const char *, uint64_t);

typedef void	(*events_sink_cb)(uint64_t, enum event_kind, const char *,
		    size_t);
typedef void	(*events_replay_cb)(void *, uint64_t, enum event_kind,
		    const char *, size_t);
void		 events_sink_add(events_sink_cb);
void		 events_sink_remove(events_sink_cb);
void		 events_configure(size_t);
uint64_t	 events_oldest(void);
uint64_t	 events_gap(uint64_t);
void		 events_replay(uint64_t, events_replay_cb, void *);
void		 events_free(void);

#endif /* EVENTS_H */
