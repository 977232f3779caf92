/*
 * The registry of connected clients. Lookups by id and by name are trees
 * so that an admin SEND costs O(log n) with tens of thousands connected;
 * LIST walks the list, which keeps connection order for free.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "registry.h"
#include "util.h"
#include "xmalloc.h"

/* Clients per remote host, for max_clients_per_ip. */
struct host_count {
	struct sockaddr_storage	 host;	/* port zeroed */
	size_t			 n;
	RB_ENTRY(host_count)	 node;
};

RB_HEAD(client_ids, client);
RB_HEAD(client_names, client);
RB_HEAD(host_counts, host_count);

static int	client_id_cmp(struct client *, struct client *);
static int	client_name_cmp(struct client *, struct client *);
static int	host_count_cmp(struct host_count *, struct host_count *);
static void	host_key(const struct sockaddr *, struct sockaddr_storage *);
static struct host_count *host_find(const struct sockaddr *);

RB_PROTOTYPE_INTERNAL(client_ids, client, id_node, client_id_cmp, RB_STATIC)
RB_PROTOTYPE_INTERNAL(client_names, client, name_node, client_name_cmp,
    RB_STATIC)
RB_PROTOTYPE_INTERNAL(host_counts, host_count, node, host_count_cmp,
    RB_STATIC)
RB_GENERATE_INTERNAL(client_ids, client, id_node, client_id_cmp, RB_STATIC)
RB_GENERATE_INTERNAL(client_names, client, name_node, client_name_cmp,
    RB_STATIC)
RB_GENERATE_INTERNAL(host_counts, host_count, node, host_count_cmp,
    RB_STATIC)

static struct client_list	clients = TAILQ_HEAD_INITIALIZER(clients);
static struct client_ids	by_id = RB_INITIALIZER(&by_id);
static struct client_names	by_name = RB_INITIALIZER(&by_name);
static struct host_counts	by_host = RB_INITIALIZER(&by_host);
static size_t			nclients;

static int
client_id_cmp(struct client *a, struct client *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

static int
client_name_cmp(struct client *a, struct client *b)
{
	return (strcmp(a->name, b->name));
}

static int
host_count_cmp(struct host_count *a, struct host_count *b)
{
	if (a->host.ss_family != b->host.ss_family)
		return (a->host.ss_family < b->host.ss_family ? -1 : 1);
	if (a->host.ss_family == AF_INET)
		return (memcmp(&((struct sockaddr_in *)&a->host)->sin_addr,
		    &((struct sockaddr_in *)&b->host)->sin_addr,
		    sizeof(struct in_addr)));
	return (memcmp(&((struct sockaddr_in6 *)&a->host)->sin6_addr,
	    &((struct sockaddr_in6 *)&b->host)->sin6_addr,
	    sizeof(struct in6_addr)));
}

static void
host_key(const struct sockaddr *sa, struct sockaddr_storage *key)
{
	memset(key, 0, sizeof(*key));
	key->ss_family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)key)->sin_addr =
		    ((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)key)->sin6_addr =
		    ((const struct sockaddr_in6 *)sa)->sin6_addr;
}

static struct host_count *
host_find(const struct sockaddr *sa)
{
	struct host_count	 key;

	host_key(sa, &key.host);
	return (RB_FIND(host_counts, &by_host, &key));
}

/* Adds c, which has its id and address, at the end of the list. */
void
registry_add(struct client *c)
{
	struct host_count	*h;

	TAILQ_INSERT_TAIL(&clients, c, entry);
	RB_INSERT(client_ids, &by_id, c);
	if ((h = host_find(&c->addr.sa)) == NULL) {
		h = xcalloc(1, sizeof(*h));
		host_key(&c->addr.sa, &h->host);
		RB_INSERT(host_counts, &by_host, h);
	}
	h->n++;
	nclients++;
}

void
registry_remove(struct client *c)
{
	struct host_count	*h;

	TAILQ_REMOVE(&clients, c, entry);
	RB_REMOVE(client_ids, &by_id, c);
	if (c->name[0] != '\0')
		RB_REMOVE(client_names, &by_name, c);
	if ((h = host_find(&c->addr.sa)) != NULL && --h->n == 0) {
		RB_REMOVE(host_counts, &by_host, h);
		free(h);
	}
	nclients--;
}

/* Gives c the name, which must be valid and not held by another client. */
void
registry_set_name(struct client *c, const char *name)
{
	if (c->name[0] != '\0')
		RB_REMOVE(client_names, &by_name, c);
	strlcpy(c->name, name, sizeof(c->name));
	RB_INSERT(client_names, &by_name, c);
}

struct client *
registry_by_id(uint64_t id)
{
	struct client	 key;

	key.id = id;
	return (RB_FIND(client_ids, &by_id, &key));
}

struct client *
registry_by_name(const char *name)
{
	struct client	 key;

	if (strlcpy(key.name, name, sizeof(key.name)) >= sizeof(key.name))
		return (NULL);
	return (RB_FIND(client_names, &by_name, &key));
}

/* Finds the client at a remote address and port; admin use, so a walk. */
struct client *
registry_by_addr(const struct sockaddr *sa)
{
	struct client	*c;

	TAILQ_FOREACH(c, &clients, entry) {
		if (addr_equal(&c->addr.sa, sa))
			return (c);
	}
	return (NULL);
}

struct client_list *
registry_list(void)
{
	return (&clients);
}

size_t
registry_count(void)
{
	return (nclients);
}

size_t
registry_host_count(const struct sockaddr *sa)
{
	struct host_count	*h;

	return ((h = host_find(sa)) == NULL ? 0 : h->n);
}
