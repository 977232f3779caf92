/*
 * The operations on live clients that the admin commands (admin_cmd.c)
 * and the HTTP API (http_api.c) share: finding a target, matching a
 * selector, describing a client, sending to and kicking a selection, and
 * matching the last-seen registry.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <stdint.h>
#include <string.h>

#include "client.h"
#include "ops.h"
#include "registry.h"
#include "seen.h"
#include "select.h"
#include "stats.h"
#include "util.h"

/* The client a target names, or NULL. */
struct client *
ops_find(const struct target *t)
{
	switch (t->kind) {
	case TARGET_ID:
		return (registry_by_id(t->id));
	case TARGET_ADDR:
		return (registry_by_addr((const struct sockaddr *)&t->addr));
	case TARGET_NAME:
		return (registry_by_name(t->name));
	}
	return (NULL);
}

/* Returns 1 when sel (NULL: any) matches c, as it is at now (mono ns). */
int
ops_matches(const struct client *c, const struct selector *sel,
    uint64_t now)
{
	struct select_subject	 subj;

	if (sel == NULL || sel->n == 0)
		return (1);
	memset(&subj, 0, sizeof(subj));
	subj.id = c->id;
	subj.name = c->name;
	subj.addr = &c->addr.sa;
	subj.tls = c->conn.ssl != NULL;
	subj.age = mono_seconds(c->connected, now);
	subj.idle = mono_seconds(c->last_rx, now);
	return (select_match(sel, &subj));
}

/* Fills v with c as LIST shows it at now (mono ns). */
void
ops_describe(const struct client *c, uint64_t now, struct ops_client *v)
{
	v->id = c->id;
	v->name = c->name[0] != '\0' ? c->name : NULL;
	addr_format(&c->addr.sa, v->addr, sizeof(v->addr));
	v->age = mono_seconds(c->connected, now);
	v->idle = mono_seconds(c->last_rx, now);
	v->in = c->bytes_in;
	v->out = c->bytes_out;
	v->timeout = client_granted(c);
	v->gap_max = c->gap_max / 1e9;
	v->near = c->near;
}

/*
 * Queues msg to every client sel (NULL: any) matches. Returns how many
 * kept their connection, the count SEND and BROADCAST answer.
 */
uint64_t
ops_queue(const struct selector *sel, const char *msg, size_t len)
{
	struct client	*c, *next;
	uint64_t	 n = 0, now = mono_ns();

	TAILQ_FOREACH_SAFE(c, registry_list(), entry, next) {
		if (ops_matches(c, sel, now) &&
		    client_send_line(c, msg, len) == 0)
			n++;
	}
	stats.messages_sent += n;
	return (n);
}

/*
 * SEND: a single #id, @ip:port or name reaches its client or is not
 * found; any other selector, such as a glob or @<cidr>, queues to every
 * client it matches. *n is how many kept their connection.
 */
enum ops_result
ops_send(const struct selector *sel, const char *msg, size_t len,
    uint64_t *n)
{
	const struct target	*t;
	struct client		*c;

	*n = 0;
	if ((t = select_single(sel)) == NULL) {
		*n = ops_queue(sel, msg, len);
		return (OPS_OK);
	}
	if ((c = ops_find(t)) == NULL)
		return (OPS_NOTFOUND);
	if (client_send_line(c, msg, len) == -1)
		return (OPS_OVERFLOW);
	stats.messages_sent++;
	*n = 1;
	return (OPS_OK);
}

/*
 * KICK: a single #id, @ip:port or name is kicked or not found; any other
 * selector kicks every client it matches, maybe none. *n is how many.
 */
enum ops_result
ops_kick(const struct selector *sel, uint64_t *n)
{
	const struct target	*t;
	struct client		*c, *next;
	uint64_t		 now = mono_ns();

	*n = 0;
	if ((t = select_single(sel)) != NULL) {
		if ((c = ops_find(t)) == NULL)
			return (OPS_NOTFOUND);
		client_close(c, REASON_KICKED);
		*n = 1;
		return (OPS_OK);
	}
	TAILQ_FOREACH_SAFE(c, registry_list(), entry, next) {
		if (ops_matches(c, sel, now)) {
			client_close(c, REASON_KICKED);
			(*n)++;
		}
	}
	return (OPS_OK);
}

/* A seen_filter: whether e, as at now, matches the selector at arg. */
int
ops_seen_match(const struct seen_entry *e, int64_t now, void *arg)
{
	static const enum select_state states[SEEN__COUNT] = {
		[SEEN_ONLINE] = SELECT_ONLINE,
		[SEEN_OFFLINE] = SELECT_OFFLINE,
		[SEEN_HELD] = SELECT_HELD,
	};
	struct select_subject	 subj;

	memset(&subj, 0, sizeof(subj));
	subj.seen = 1;
	subj.name = e->name;
	if (e->addr.sa.sa_family != AF_UNSPEC)
		subj.addr = &e->addr.sa;
	subj.state = states[e->state];
	subj.for_secs = now > e->since ? now - e->since : 0;
	return (select_match(arg, &subj));
}
