#ifndef PENDING_H
#define PENDING_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

struct conn;

/* Takes a connection that is through; conn's socket and TLS are its. */
typedef void	(*pending_done_cb)(struct conn *, const struct sockaddr *,
		    socklen_t);

void	 pending_new(int, const struct sockaddr *, socklen_t, int, int,
	    pending_done_cb);
size_t	 pending_count(void);
void	 pending_rearm(void);
void	 pending_close_all(void);

#endif /* PENDING_H */
