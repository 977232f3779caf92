#ifndef ADMIN_SESSION_H
#define ADMIN_SESSION_H

/*
 * What admin.c (the sessions) and admin_cmd.c (the commands) share, and
 * nothing more: a command sees its session only through admin_reply(),
 * admin_finish() and, for an answer that comes later, admin_hold() and
 * admin_release(); a session finds its commands in the table.
 */

#include <stddef.h>

#include "fleet.h"

struct admin_session;
struct admin_hold;
struct words;

/* An admin command; fn gets the words after its name, or NULL. */
struct admin_cmd {
	const char	*name;
	void		(*fn)(struct admin_session *, const char *, size_t);
	int		 flags;
#define CMD_NOAUTH	 0x1	/* allowed before AUTH */
#define CMD_FLEET	 0x2	/* another node may run it (admin_exec) */
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
void	 admin_watch(struct admin_session *, const char *, size_t);

/* admin_cmd.c */
const struct admin_cmd *admin_cmd_find(const struct words *);
int	 admin_route(struct admin_session *, enum fleet_route, const char *,
	    const char *, const char *, size_t);

#endif /* ADMIN_SESSION_H */
