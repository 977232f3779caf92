#ifndef EVENTS_H
#define EVENTS_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"

struct client;

/*
 * The one place where client events happen: each gets the next sequence
 * number, moves the counters, writes its operator log line and is handed
 * to the sink (the WATCH feed) as "verb #id key=value ...".
 */
void	 events_connect(const struct client *);
void	 events_hello(const struct client *);
void	 events_data(const struct client *, const char *, size_t);
void	 events_disconnect(const struct client *, enum hb_reason);
void	 events_reject(const struct sockaddr *, enum hb_reason);

typedef void	(*events_sink_cb)(uint64_t, const char *, size_t);
typedef void	(*events_replay_cb)(void *, uint64_t, const char *, size_t);
void		 events_set_sink(events_sink_cb);
void		 events_configure(size_t);
uint64_t	 events_oldest(void);
void		 events_replay(uint64_t, events_replay_cb, void *);
void		 events_free(void);

#endif /* EVENTS_H */
