#ifndef DEADLINE_H
#define DEADLINE_H

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"
#include "registry.h"

struct client;

/* Upper bounds of heartbeatd_heartbeat_gap_ratio's buckets (SPEC §10). */
#define DEADLINE_GAP_NBOUNDS	6
extern const double	 deadline_gap_bounds[DEADLINE_GAP_NBOUNDS];

typedef void	(*deadline_expire_fn)(struct client **, size_t,
		    enum hb_reason);

void		 deadline_init(deadline_expire_fn);
uint64_t	 deadline_ns(double);
void		 deadline_add(struct client *, uint64_t);
void		 deadline_add_hello(struct client *);
void		 deadline_remove(struct client *);
void		 deadline_touch(struct client *, uint64_t);
uint64_t	 deadline_timeout(const struct client *);
void		 deadline_refile(struct client_list *, size_t,
		    uint64_t (*)(const struct client *));
void		 deadline_free_all(void);

#endif /* DEADLINE_H */
