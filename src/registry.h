#ifndef REGISTRY_H
#define REGISTRY_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <stdint.h>

struct client;
TAILQ_HEAD(client_list, client);

/*
 * The live clients: a list in connection order, trees by id and by name,
 * and a count per remote host. Pure data: no I/O, and it never frees a
 * client (client.c owns them).
 */
void			 registry_add(struct client *);
void			 registry_remove(struct client *);
void			 registry_set_name(struct client *, const char *);
struct client		*registry_by_id(uint64_t);
struct client		*registry_by_name(const char *);
struct client		*registry_by_addr(const struct sockaddr *);
struct client_list	*registry_list(void);
size_t			 registry_count(void);
size_t			 registry_host_count(const struct sockaddr *);

#endif /* REGISTRY_H */
