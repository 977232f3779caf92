#ifndef FLEET_H
#define FLEET_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct hb_config;

/*
 * The fleet (SPEC §14): nodes that share one Redis know every named
 * client of every node, and the admin commands ask them as a remote
 * registry: a command about a name held elsewhere runs on that node, a
 * fleet-wide one on every node, and the answer comes back later through
 * a callback, always within FLEET_DEADLINE_MS. Without [cluster] redis
 * every function here does nothing, at no cost.
 */

#define FLEET_DEADLINE_MS	1000	/* a routed command's answer */
#define FLEET_BEAT_MS		1000	/* a live node's beat in Redis */
#define FLEET_DEAD_MS		10000	/* a node silent this long is gone */

/* What a fleet-wide command gathers from the answers of the nodes. */
enum fleet_gather {
	FLEET_SUM,		/* "OK <n>" of each: "OK <sum>" */
	FLEET_ANY,		/* "OK" if one said so, else an answer */
	FLEET_LIST		/* CLIENT lines, node=, then END nodes=a/k */
};

/* Where a command about a name runs. */
enum fleet_route {
	FLEET_ONLINE,		/* the node the name is online at */
	FLEET_PUSHES		/* or else the one holding its pushes */
};

/* The answer to a routed command: one line, or several joined by "\n". */
typedef void	(*fleet_answer_cb)(void *, const char *);

void	 fleet_start(const struct hb_config *);
int	 fleet_reloadable(const struct hb_config *, char **);
void	 fleet_configure(const struct hb_config *);
void	 fleet_stop(void);
int	 fleet_on(void);

void	 fleet_route(enum fleet_route, const char *, const char *, size_t,
	    fleet_answer_cb, void *);
void	 fleet_all(enum fleet_gather, const char *, size_t, fleet_answer_cb,
	    void *);

/* events.c */
int	 fleet_streams(void);
void	 fleet_event(uint64_t, const char *, size_t);
void	 fleet_hello(const struct client *);
void	 fleet_bye(const char *, uint64_t);

#endif /* FLEET_H */
