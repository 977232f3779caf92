#ifndef SELECT_H
#define SELECT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"
#include "proto.h"

#define SELECT_WORDS_MAX	16	/* words in one selector */
#define SELECT_WORD_MAX		96	/* bytes in one word */
#define SELECT_SECS_MAX		1e10	/* s in idle>N and the like */

/* What one selector word tests (SPEC §12, and §11 for SEEN's words). */
enum select_kind {
	SELECT_TARGET,		/* #<id>, @<ip>:<port> or an exact name */
	SELECT_CIDR,		/* @<network>/<bits> */
	SELECT_GLOB,		/* a name pattern with * or ? */
	SELECT_UNNAMED,
	SELECT_TLS,
	SELECT_PLAIN,
	SELECT_STATE,		/* online, offline, held */
	SELECT_IDLE,		/* idle>N, idle<N */
	SELECT_AGE,		/* age>N, age<N */
	SELECT_FOR,		/* for>N, for<N */
	SELECT_FLEET		/* fleet: every node, not only this one */
};

/* A last-seen registry entry's state (SPEC §11). */
enum select_state {
	SELECT_ONLINE,
	SELECT_OFFLINE,
	SELECT_HELD
};

struct select_word {
	enum select_kind	 kind;
	union {
		struct target	 target;
		struct hb_cidr	 cidr;
		char		 glob[HB_NAME_MAX + 1];
		enum select_state state;
		struct {
			char	 op;		/* '<' or '>' */
			double	 secs;
		}		 cmp;
	}			 u;
};

/*
 * A parsed selector: every word must match. No words match everything.
 * It holds copies, not pointers into the line it was parsed from.
 */
struct selector {
	struct select_word	 w[SELECT_WORDS_MAX];
	size_t			 n;
	char			 why[128];	/* the last parse error */
};

/*
 * What a selector is matched against: a live client, or (seen set) an
 * entry of the last-seen registry. Words about the other kind of subject
 * never match.
 */
struct select_subject {
	int			 seen;
	uint64_t		 id;		/* live; 0: none */
	const char		*name;		/* "" when unnamed, never NULL */
	const struct sockaddr	*addr;		/* NULL: none known */
	int			 tls;		/* live */
	double			 age;		/* s, live */
	double			 idle;		/* s, live */
	enum select_state	 state;		/* seen */
	double			 for_secs;	/* s in that state, seen */
};

int			 select_parse(const char *, size_t, struct selector *,
			    const char **);
const struct target	*select_single(const struct selector *);
int			 select_fleet(const struct selector *);
int			 select_match(const struct selector *,
			    const struct select_subject *);
int			 glob_match(const char *, const char *);

#endif /* SELECT_H */
