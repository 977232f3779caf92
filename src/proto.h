#ifndef PROTO_H
#define PROTO_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"

extern const char *const reason_names[REASON__COUNT];

/*
 * Line framing for a byte stream. A partial line is kept between reads in
 * buf, allocated only while one is pending so that idle clients cost
 * nothing. Complete lines are passed on without copying.
 */
struct linebuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/* Called for each line, without "\n" and one "\r" before it; returns 0 to
 * go on, -1 to stop (for instance because the connection was closed,
 * in which case the linebuf may be gone), or 1 to pause until
 * linebuf_resume(). */
typedef int	(*line_cb)(void *, const char *, size_t);

#define LINE_OK		0	/* all data consumed; a partial line kept */
#define LINE_STOPPED	1	/* the callback returned -1 */
#define LINE_TOOLONG	2	/* a line is longer than max */
#define LINE_PAUSED	3	/* the callback returned 1 */

int	 linebuf_feed(struct linebuf *, const char *, size_t, size_t,
	    line_cb, void *);
int	 linebuf_resume(struct linebuf *, size_t, line_cb, void *);
void	 linebuf_clear(struct linebuf *);

/* Splits a line at its first space into a command word and the rest. */
struct words {
	const char	*word;
	size_t		 wordlen;
	const char	*rest;		/* after the space, or NULL */
	size_t		 restlen;
};
void	 proto_split(const char *, size_t, struct words *);
int	 proto_is(const struct words *, const char *);

int	 name_check(const char *, size_t, const char **);
/* HELLO's arguments (SPEC §3): a name, then key=value options. */
struct hello_opt {
	const char	*s;		/* NULL: not given */
	size_t		 len;
};
struct hello {
	const char		*name;
	size_t			 namelen;
	struct hello_opt	 token;		/* §9 */
	struct hello_opt	 timeout;	/* §10 */
};
#define HELLO_BADNAME	(-1)
#define HELLO_SYNTAX	(-2)
int	 hello_parse(const char *, size_t, struct hello *, const char **);
int	 hello_timeout(const struct hello *, double *, const char **);

/* An admin target: "#<id>", "@<ip>:<port>" or a client name. */
enum target_kind {
	TARGET_ID,
	TARGET_ADDR,
	TARGET_NAME
};
struct target {
	enum target_kind	 kind;
	uint64_t		 id;
	struct sockaddr_storage	 addr;
	char			 name[HB_NAME_MAX + 1];
};
int	 target_parse(const char *, size_t, struct target *);

size_t	 proto_escape(const char *, size_t, char *);
#define PROTO_ESCAPED_MAX(n)	((n) * 4 + 1)

int	 message_check(const char *, size_t, size_t, const char **);

#endif /* PROTO_H */
