#ifndef OPS_H
#define OPS_H

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"
#include "util.h"

struct client;
struct seen_entry;
struct selector;
struct target;

/*
 * What the admin commands and the HTTP API do to the live clients, so
 * that LIST and GET clients, SEND and POST send, KICK and POST kick
 * cannot come to differ. Each caller says the outcome in its own words.
 */

/* How SEND or KICK to a selector went. */
enum ops_result {
	OPS_OK,
	OPS_NOTFOUND,		/* a single target matched no client */
	OPS_OVERFLOW		/* it was dropped for send_buffer_limit */
};

/* One client as LIST shows it. */
struct ops_client {
	uint64_t	 id;
	const char	*name;		/* NULL: unnamed */
	char		 addr[ADDR_STRLEN];
	double		 age;		/* s */
	double		 idle;		/* s */
	uint64_t	 in;		/* bytes */
	uint64_t	 out;		/* bytes */
	double		 timeout;	/* s granted */
	double		 gap_max;	/* s */
	uint64_t	 near;
};

struct client	*ops_find(const struct target *);
int		 ops_matches(const struct client *, const struct selector *,
		    uint64_t);
void		 ops_describe(const struct client *, uint64_t,
		    struct ops_client *);
uint64_t	 ops_queue(const struct selector *, const char *, size_t);
enum ops_result	 ops_send(const struct selector *, const char *, size_t,
		    uint64_t *);
enum ops_result	 ops_kick(const struct selector *, uint64_t *);
int		 ops_seen_match(const struct seen_entry *, int64_t, void *);

#endif /* OPS_H */
