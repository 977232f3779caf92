#ifndef LISTENER_H
#define LISTENER_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#include "heartbeatd.h"

struct evconnlistener;

int	 listener_socket(const struct hb_addr *, char **);
int	 listener_open_all(const struct hb_addrlist *, char **);
void	 listener_close_all(void);
void	 listener_resume(void);
void	 listener_names(char *, size_t);

#endif /* LISTENER_H */
