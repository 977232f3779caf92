#ifndef ADMIN_SESSION_H
#define ADMIN_SESSION_H

/*
 * What admin.c (the sessions), admin_cmd.c (the commands) and
 * admin_watch.c (WATCH) share, and nothing more: a command sees its
 * session only through admin_reply(), admin_finish() and, for an answer
 * that comes later, admin_hold() and admin_release(); a session finds its
 * commands in the table. WATCH also writes its events where the next
 * answer goes (admin_out()), sees how far its peer lags (admin_unsent())
 * and gives up on one that lags too far (admin_finish_soon()).
 */

#include <sys/queue.h>

#include <stddef.h>

#include "fleet.h"

struct admin_session;
struct admin_hold;
struct evbuffer;
struct words;

/* An admin command; fn gets the words after its name, or NULL. */
struct admin_cmd {
	const char	*name;
	void		(*fn)(struct admin_session *, const char *, size_t);
	int		 flags;
#define CMD_NOAUTH	 0x1	/* allowed before AUTH */
#define CMD_FLEET	 0x2	/* another node may run it (admin_exec) */
};

/*
 * A session's WATCH subscription, kept in the session so that admin.c can
 * end it when the session goes (watch_stop()). admin_watch.c fills it in;
 * admin.c reads s, to take nothing but QUIT from a watcher, and clears
 * replayed once the output has drained.
 */
struct admin_watcher {
	struct admin_session		*s;		/* NULL: not watching */
	unsigned			 verbs;		/* EVENT_BIT()s */
	size_t				 replayed;	/* bytes (WATCH FROM) */
	TAILQ_ENTRY(admin_watcher)	 entry;
};

/* admin.c */
void	 admin_reply(struct admin_session *, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
void	 admin_finish(struct admin_session *);
struct admin_hold *admin_hold(struct admin_session *);
void	 admin_release(struct admin_hold *, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
int	 admin_local(const struct admin_session *);
void	 admin_auth(struct admin_session *, const char *, size_t);
struct evbuffer *admin_out(struct admin_session *);
size_t	 admin_unsent(const struct admin_session *);
int	 admin_closing(const struct admin_session *);
void	 admin_finish_soon(struct admin_session *);
struct admin_watcher *admin_watcher(struct admin_session *);

/* admin_watch.c */
void	 admin_watch(struct admin_session *, const char *, size_t);
void	 watch_stop(struct admin_watcher *);

/* admin_cmd.c */
const struct admin_cmd *admin_cmd_find(const struct words *);
int	 admin_route(struct admin_session *, enum fleet_route, const char *,
	    const char *, const char *, size_t);

#endif /* ADMIN_SESSION_H */
