#ifndef PENDING_H
#define PENDING_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

void	 pending_new(int, const struct sockaddr *, socklen_t, int, int);
size_t	 pending_count(void);
void	 pending_rearm(void);
void	 pending_close_all(void);

#endif /* PENDING_H */
