#ifndef LISTENER_H
#define LISTENER_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <stddef.h>

#include "heartbeatd.h"

struct evconnlistener;
struct hb_config;

/* One listening socket of a set, as configured and as bound. */
struct lsock {
	struct hb_addr		 cfg;		/* port may be 0 */
	struct hb_addr		 bound;		/* the real port */
	int			 fd;
	void			*handle;	/* from the set's attach */
	TAILQ_ENTRY(lsock)	 entry;
};
TAILQ_HEAD(lsock_list, lsock);

/*
 * The sockets of one kind of listener (clients, admin, metrics) and how to
 * serve one. A reload prepares the set for the new addresses, binding the
 * added ones, and commits only when every set could be prepared: added
 * sockets are bound before removed ones close, and a failure changes
 * nothing.
 */
struct lset {
	const char		*label;		/* "listen", "admin listen" */
	void			*(*attach)(int);
	void			 (*detach)(void *);
	struct lsock_list	 socks;
	struct lsock_list	 added;		/* between prepare and commit */
	const char		*tag;		/* before each name, or NULL */
};

int	 lset_prepare(struct lset *, const struct hb_addrlist *, char **);
void	 lset_commit(struct lset *, const struct hb_addrlist *);
void	 lset_abort(struct lset *);
void	 lset_close(struct lset *);
void	 lset_names(const struct lset *, char *, size_t);

int	 listener_prepare(const struct hb_config *, char **);
void	 listener_commit(const struct hb_config *);
void	 listener_abort(void);
void	 listener_close_all(void);
void	 listener_resume(void);
void	 listener_guard(struct evconnlistener *);
void	 listener_unguard(struct evconnlistener *);
void	 listener_names(char *, size_t);
void	 listener_tls_names(char *, size_t);
int	 listener_admit(const struct sockaddr *, enum hb_reason *);

#endif /* LISTENER_H */
