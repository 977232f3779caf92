/*
 * Pushes with acknowledgement (SPEC §13): messages for a name that wait
 * for it to come online, are sent as "MSG <id> <message>", and are done
 * only once that name ACKs them or their ttl runs out.
 *
 * A million may be pending, so nothing here walks them all and nothing
 * has a timer of its own. Each push sits in a tree by id (ACK, UNPUSH),
 * in a tree by (expires, id) whose first entry the one expiry timer waits
 * for, and in its name's queue in id order; the names are a tree. A push
 * sent and not yet acknowledged is in flight: on one list in the order it
 * was sent, which is also the order it is due again, since every push
 * shares [push] redeliver, so one timer waits for the list's head.
 *
 * A push enters all that only once the store has kept it: until then it
 * is "syncing", on a list of its own, and counts against the limits only.
 * With the memory store that is at once.
 *
 * Sending is paced by the client's output queue: a push goes out while
 * less than half of send_buffer_limit is queued to its client, and the
 * rest follow as ACKs come back, so that a name with a thousand pushes
 * waiting is not dropped for overflow the moment it says HELLO.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <sys/uio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "client.h"
#include "daemon.h"
#include "events.h"
#include "log.h"
#include "push.h"
#include "registry.h"
#include "stats.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#define PUSH_SLACK_US	1000	/* timers wait this much past the due time */

struct push_name;

/*
 * One pending push, its message allocated with it. While it is synced it
 * is on the syncing list (by its queue entry) and holds whom to answer;
 * once kept, the expiry tree's node takes that place.
 */
struct push {
	RB_ENTRY(push)		 by_id;
	union {
		RB_ENTRY(push)	 by_expiry;	/* kept */
		struct {
			push_answer_cb	 cb;
			void		*arg;
		}		 answer;	/* syncing */
	}			 u;
	TAILQ_ENTRY(push)	 queue;		/* its name's, or syncing */
	TAILQ_ENTRY(push)	 flight;	/* in flight, by send time */
	struct push_name	*pn;
	uint64_t		 id;
	int64_t			 created;	/* Unix ms */
	int64_t			 expires;	/* Unix ms */
	uint64_t		 sent;		/* mono ns; 0: not in flight */
	uint32_t		 tries;		/* times sent */
	uint32_t		 len;
	char			 msg[];
};
TAILQ_HEAD(push_queue, push);

/*
 * A name with pushes: its kept ones in id order, and how many it has,
 * those syncing included. Every push before next is in flight (all of
 * them when next is NULL), so that sending on needs no walk from the
 * head.
 */
struct push_name {
	RB_ENTRY(push_name)	 node;
	struct push_queue	 pushes;
	struct push		*next;
	uint64_t		 n;
	char			 name[];
};

RB_HEAD(push_ids, push);
RB_HEAD(push_expiries, push);
RB_HEAD(push_names, push_name);

static int	push_id_cmp(struct push *, struct push *);
static int	push_expiry_cmp(struct push *, struct push *);
static int	push_name_cmp(struct push_name *, struct push_name *);
static int64_t	push_now_ms(void);
static struct push_name *push_name_find(const char *);
static struct push_name *push_name_get(const char *);
static void	push_name_unref(struct push_name *);
static struct push *push_new(struct push_name *, uint64_t, int64_t, int64_t,
		    const char *, size_t);
static struct push *push_find(uint64_t);
static void	push_file(struct push *);
static void	push_kept(struct push *);
static void	push_done_cb(void *, const char *);
static void	push_delete(struct push *);
static int	push_room(const struct client *, const struct push *);
static int	push_send(struct push *, struct client *);
static int	push_pump(struct push_name *, struct client *);
static void	push_timer_add(struct event *, uint64_t);
static void	push_arm_expiry(int64_t);
static void	push_arm_redeliver(void);
static void	push_expire_cb(evutil_socket_t, short, void *);
static void	push_redeliver_cb(evutil_socket_t, short, void *);
static void	push_load_cb(const struct store_push *, void *);

RB_PROTOTYPE_INTERNAL(push_ids, push, by_id, push_id_cmp, RB_STATIC)
RB_PROTOTYPE_INTERNAL(push_expiries, push, u.by_expiry, push_expiry_cmp,
    RB_STATIC)
RB_PROTOTYPE_INTERNAL(push_names, push_name, node, push_name_cmp, RB_STATIC)
RB_GENERATE_INTERNAL(push_ids, push, by_id, push_id_cmp, RB_STATIC)
RB_GENERATE_INTERNAL(push_expiries, push, u.by_expiry, push_expiry_cmp,
    RB_STATIC)
RB_GENERATE_INTERNAL(push_names, push_name, node, push_name_cmp, RB_STATIC)

static struct push_ids		 ids = RB_INITIALIZER(&ids);
static struct push_expiries	 expiries = RB_INITIALIZER(&expiries);
static struct push_names	 names = RB_INITIALIZER(&names);
static struct push_queue	 syncing = TAILQ_HEAD_INITIALIZER(syncing);
static struct push_queue	 flying = TAILQ_HEAD_INITIALIZER(flying);
static uint64_t			 ntotal;	/* syncing included */
static uint64_t			 last_id;
static struct event		*ev_expire;
static struct event		*ev_redeliver;
static int64_t			 expire_armed;	/* Unix ms it waits for */

static int
push_id_cmp(struct push *a, struct push *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

static int
push_expiry_cmp(struct push *a, struct push *b)
{
	if (a->expires != b->expires)
		return (a->expires < b->expires ? -1 : 1);
	return (push_id_cmp(a, b));
}

static int
push_name_cmp(struct push_name *a, struct push_name *b)
{
	return (strcmp(a->name, b->name));
}

/* The wall clock in ms: expiry outlives the process, as the store does. */
static int64_t
push_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static struct push_name *
push_name_find(const char *name)
{
	_Alignas(struct push_name) char buf[sizeof(struct push_name) +
	    HB_NAME_MAX + 1];
	struct push_name	*key = (struct push_name *)buf;

	if (strlcpy(key->name, name, HB_NAME_MAX + 1) > HB_NAME_MAX)
		return (NULL);
	return (RB_FIND(push_names, &names, key));
}

/* The entry of name, made if it has none. */
static struct push_name *
push_name_get(const char *name)
{
	struct push_name	*pn;
	size_t			 len = strlen(name) + 1;

	if ((pn = push_name_find(name)) != NULL)
		return (pn);
	pn = xcalloc(1, sizeof(*pn) + len);
	memcpy(pn->name, name, len);
	TAILQ_INIT(&pn->pushes);
	RB_INSERT(push_names, &names, pn);
	return (pn);
}

/* One push of pn's is gone; pn goes with its last. */
static void
push_name_unref(struct push_name *pn)
{
	ntotal--;
	if (--pn->n > 0)
		return;
	RB_REMOVE(push_names, &names, pn);
	free(pn);
}

/* A push of pn's, counted there, in no tree or list yet. */
static struct push *
push_new(struct push_name *pn, uint64_t id, int64_t created,
    int64_t expires, const char *msg, size_t len)
{
	struct push	*p;

	p = xmalloc(sizeof(*p) + len + 1);
	memset(p, 0, sizeof(*p));
	p->pn = pn;
	p->id = id;
	p->created = created;
	p->expires = expires;
	p->len = len;
	memcpy(p->msg, msg, len);
	p->msg[len] = '\0';
	pn->n++;
	ntotal++;
	return (p);
}

static struct push *
push_find(uint64_t id)
{
	struct push	 key;

	key.id = id;
	return (RB_FIND(push_ids, &ids, &key));
}

/*
 * Files a kept push: in the trees, and in its name's queue by id,
 * searched from the end since pushes are kept in about the order they
 * were made.
 */
static void
push_file(struct push *p)
{
	struct push_name	*pn = p->pn;
	struct push		*after;

	RB_INSERT(push_ids, &ids, p);
	RB_INSERT(push_expiries, &expiries, p);
	after = TAILQ_LAST(&pn->pushes, push_queue);
	while (after != NULL && after->id > p->id)
		after = TAILQ_PREV(after, push_queue, queue);
	if (after == NULL)
		TAILQ_INSERT_HEAD(&pn->pushes, p, queue);
	else
		TAILQ_INSERT_AFTER(&pn->pushes, after, p, queue);
	if (pn->next == NULL || p->id < pn->next->id)
		pn->next = p;
	stats.pushes_pending++;
	push_arm_expiry(p->expires);
}

/*
 * The store has p: it is pending from now, goes to its name if online,
 * and is answered last, since the answer may run the admin session's
 * next commands, which may delete it.
 */
static void
push_kept(struct push *p)
{
	push_answer_cb	 cb = p->u.answer.cb;
	void		*arg = p->u.answer.arg;
	uint64_t	 id = p->id;
	struct client	*c;

	TAILQ_REMOVE(&syncing, p, queue);
	push_file(p);
	events_push(p->pn->name, id);
	if ((c = registry_by_name(p->pn->name)) != NULL)
		push_pump(p->pn, c);
	cb(arg, id, NULL);
}

/* The store's answer for the push at token (a store_push_done_cb). */
static void
push_done_cb(void *token, const char *error)
{
	struct push	*p = token;
	push_answer_cb	 cb = p->u.answer.cb;
	void		*arg = p->u.answer.arg;

	if (error == NULL) {
		push_kept(p);
		return;
	}
	TAILQ_REMOVE(&syncing, p, queue);
	push_name_unref(p->pn);
	free(p);
	cb(arg, 0, error);
}

/*
 * PUSH: makes a push of len bytes of msg for name, to live ttl s (0: the
 * default), and hands it to the store; cb gets its id once it is kept
 * (at once with the memory store), or the store's error. Returns 0, or
 * -1 with *why when a limit is reached and cb is never called.
 */
int
push_submit(const char *name, uint64_t ttl, const char *msg, size_t len,
    push_answer_cb cb, void *arg, const char **why)
{
	static char		 full[64];
	struct push_name	*pn = push_name_find(name);
	struct store_push	 sp;
	struct push		*p;
	int64_t			 now = push_now_ms();

	if (pn != NULL && pn->n >= hb_conf->push_max_per_name) {
		snprintf(full, sizeof(full), "name has %llu pending pushes",
		    (unsigned long long)hb_conf->push_max_per_name);
		*why = full;
		return (-1);
	}
	if (ntotal >= hb_conf->push_max_total) {
		snprintf(full, sizeof(full), "%llu pushes pending",
		    (unsigned long long)hb_conf->push_max_total);
		*why = full;
		return (-1);
	}
	if (ttl == 0)
		ttl = hb_conf->push_ttl;
	p = push_new(push_name_get(name), ++last_id, now,
	    now + (int64_t)ttl * 1000, msg, len);
	p->u.answer.cb = cb;
	p->u.answer.arg = arg;
	TAILQ_INSERT_TAIL(&syncing, p, queue);
	sp.id = p->id;
	strlcpy(sp.name, name, sizeof(sp.name));
	sp.created = p->created;
	sp.expires = p->expires;
	sp.msg = p->msg;
	sp.len = len;
	if (store_push_add(&sp, p) == 1)
		push_kept(p);
	return (0);
}

/* Forgets a pending push, here and in the store. */
static void
push_delete(struct push *p)
{
	struct push_name	*pn = p->pn;

	RB_REMOVE(push_ids, &ids, p);
	RB_REMOVE(push_expiries, &expiries, p);
	if (pn->next == p)
		pn->next = TAILQ_NEXT(p, queue);
	TAILQ_REMOVE(&pn->pushes, p, queue);
	if (p->sent != 0)
		TAILQ_REMOVE(&flying, p, flight);
	store_push_delete(p->id);
	stats.pushes_pending--;
	push_name_unref(pn);
	free(p);
}

/* UNPUSH: deletes the pending push id. Returns 0, or -1 when none is. */
int
push_cancel(uint64_t id)
{
	struct push	*p;

	if ((p = push_find(id)) == NULL)
		return (-1);
	push_delete(p);
	return (0);
}

size_t
push_pending(void)
{
	return (stats.pushes_pending);
}

/* Hands each pending push of name to cb, in id order, as PUSHES shows it. */
void
push_list(const char *name, push_list_cb cb, void *arg)
{
	struct push_name	*pn;
	struct push		*p;
	struct push_info	 info;
	int64_t			 now = push_now_ms();

	if ((pn = push_name_find(name)) == NULL)
		return;
	TAILQ_FOREACH(p, &pn->pushes, queue) {
		info.id = p->id;
		info.age = now > p->created ? (now - p->created) / 1e3 : 0;
		info.ttl = p->expires > now ? (p->expires - now) / 1e3 : 0;
		info.tries = p->tries;
		info.msg = p->msg;
		info.len = p->len;
		cb(&info, arg);
	}
}

/*
 * Whether c's output queue has room for p: always when empty, else while
 * it stays within half of send_buffer_limit, which leaves the other half
 * for its PONGs.
 */
static int
push_room(const struct client *c, const struct push *p)
{
	size_t	 queued = client_queued(c);

	return (queued == 0 || queued + p->len + 32 <=
	    hb_conf->send_buffer_limit / 2);
}

/*
 * Sends p to c as MSG, and puts it at the end of the flight. Returns 0,
 * or -1 when c was closed (and its flight landed).
 */
static int
push_send(struct push *p, struct client *c)
{
	struct iovec	 iov[3];
	char		 head[32];
	int		 n;

	n = snprintf(head, sizeof(head), "MSG %llu ",
	    (unsigned long long)p->id);
	iov[0].iov_base = head;
	iov[0].iov_len = n;
	iov[1].iov_base = p->msg;
	iov[1].iov_len = p->len;
	iov[2].iov_base = (void *)"\n";
	iov[2].iov_len = 1;
	if (client_sendv(c, iov, 3) == -1)
		return (-1);
	p->tries++;
	if (p->sent != 0)
		TAILQ_REMOVE(&flying, p, flight);
	p->sent = mono_ns();
	TAILQ_INSERT_TAIL(&flying, p, flight);
	push_arm_redeliver();
	events_delivered(c, p->id);
	return (0);
}

/*
 * Sends c, which holds pn's name, the pushes of pn not in flight, in id
 * order, while its output queue has room. Returns -1 when c was closed.
 */
static int
push_pump(struct push_name *pn, struct client *c)
{
	struct push	*p;

	for (p = pn->next; p != NULL; p = TAILQ_NEXT(p, queue)) {
		if (p->sent != 0)
			continue;
		if (!push_room(c, p))
			break;
		if (push_send(p, c) == -1)
			return (-1);
	}
	pn->next = p;
	return (0);
}

/*
 * c holds its name now (a HELLO answered, or a certificate's name): its
 * pending pushes go out. Returns 0, or -1 when c was closed.
 */
int
push_online(struct client *c)
{
	struct push_name	*pn;

	if ((pn = push_name_find(c->name)) == NULL)
		return (0);
	return (push_pump(pn, c));
}

/*
 * c lets its name go (it closes, or says HELLO for another): what was in
 * flight to it is sent again to the name's next holder.
 */
void
push_offline(struct client *c)
{
	struct push_name	*pn;
	struct push		*p;

	if ((pn = push_name_find(c->name)) == NULL)
		return;
	TAILQ_FOREACH(p, &pn->pushes, queue) {
		if (p->sent != 0) {
			TAILQ_REMOVE(&flying, p, flight);
			p->sent = 0;
		}
	}
	pn->next = TAILQ_FIRST(&pn->pushes);
}

/*
 * ACK <id> from c: the push is done if it is pending for c's name, and
 * its room goes to the next. Anything else is ignored, without an
 * answer. Returns -1 when c was closed.
 */
int
push_ack(struct client *c, const char *text, size_t len)
{
	struct push_name	*pn;
	struct push		*p;
	char			 buf[24];
	const char		*why;
	uint64_t		 id;
	int			 more;

	if (text == NULL || len >= sizeof(buf) || c->name[0] == '\0')
		return (0);
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (parse_u64(buf, 1, UINT64_MAX, &id, &why) == -1 ||
	    (p = push_find(id)) == NULL || strcmp(p->pn->name, c->name) != 0)
		return (0);
	pn = p->pn;
	more = pn->n > 1;
	events_acked(c, id);
	push_delete(p);
	return (more ? push_pump(pn, c) : 0);
}

/* Makes ev fire in ns, and a little later: libevent's clock is coarse. */
static void
push_timer_add(struct event *ev, uint64_t ns)
{
	struct timeval	 tv;
	uint64_t	 us = ns / 1000 + PUSH_SLACK_US;

	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	evtimer_add(ev, &tv);
}

/* Makes the expiry timer fire by when (Unix ms) at the latest. */
static void
push_arm_expiry(int64_t when)
{
	int64_t	 now;

	if (evtimer_pending(ev_expire, NULL) && expire_armed <= when)
		return;
	now = push_now_ms();
	expire_armed = when;
	push_timer_add(ev_expire, when > now ? (uint64_t)(when - now) *
	    1000000 : 0);
}

/* Makes the redeliver timer wait for the head of the flight, if any. */
static void
push_arm_redeliver(void)
{
	struct push	*p = TAILQ_FIRST(&flying);
	uint64_t	 due, now;

	if (p == NULL || evtimer_pending(ev_redeliver, NULL))
		return;
	due = p->sent + (uint64_t)(hb_conf->push_redeliver * 1e9);
	now = mono_ns();
	push_timer_add(ev_redeliver, due > now ? due - now : 0);
}

/*
 * Deletes the pushes whose ttl has run out. The timer may fire early,
 * for a push acknowledged meanwhile: it then waits for the next.
 */
static void
push_expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct push	*p;
	int64_t		 now = push_now_ms();

	while ((p = RB_MIN(push_expiries, &expiries)) != NULL &&
	    p->expires <= now) {
		events_expired(p->pn->name, p->id);
		push_delete(p);
	}
	if (p != NULL)
		push_arm_expiry(p->expires);
}

/*
 * Sends again, with the same id, each push in flight for redeliver s.
 * One that finds its client's queue full stays in flight as if sent: a
 * copy is still queued there.
 */
static void
push_redeliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct push	*p;
	struct client	*c;
	uint64_t	 now = mono_ns();
	uint64_t	 after = (uint64_t)(hb_conf->push_redeliver * 1e9);

	while ((p = TAILQ_FIRST(&flying)) != NULL && p->sent + after <= now) {
		c = registry_by_name(p->pn->name);
		if (c != NULL && push_room(c, p)) {
			push_send(p, c);
			continue;
		}
		TAILQ_REMOVE(&flying, p, flight);
		p->sent = now;
		TAILQ_INSERT_TAIL(&flying, p, flight);
	}
	evtimer_del(ev_redeliver);
	push_arm_redeliver();
}

/* Takes a push the store kept across a restart (a store_push_load_cb). */
static void
push_load_cb(const struct store_push *sp, void *arg)
{
	if (push_find(sp->id) != NULL)
		return;
	push_file(push_new(push_name_get(sp->name), sp->id, sp->created,
	    sp->expires, sp->msg, sp->len));
	if (sp->id > last_id)
		last_id = sp->id;
}

/*
 * Loads the pending pushes of the store, opened and loaded already, and
 * drops at once those expired meanwhile. Ids go on from the highest the
 * store ever gave. Returns 0, or -1 with *cause.
 */
int
push_start(char **cause)
{
	uint64_t	 stored;

	store_push_done_set(push_done_cb);
	if ((ev_expire = evtimer_new(hb_base, push_expire_cb, NULL)) == NULL ||
	    (ev_redeliver = evtimer_new(hb_base, push_redeliver_cb,
	    NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (store_push_load(push_load_cb, NULL, &stored, cause) == -1)
		return (-1);
	if (stored > last_id)
		last_id = stored;
	push_expire_cb(-1, 0, NULL);
	return (0);
}

/* A reload may change redeliver: the flight's head is due anew. */
void
push_reconfigure(void)
{
	if (ev_redeliver == NULL)
		return;
	evtimer_del(ev_redeliver);
	push_arm_redeliver();
}

/*
 * Frees everything, after the store is closed, so that no answer can
 * come for a push freed here. Pushes still syncing are answered with an
 * error, since each admin hold must be released.
 */
void
push_stop(void)
{
	struct push_name	*pn;
	struct push		*p;

	while ((p = TAILQ_FIRST(&syncing)) != NULL)
		push_done_cb(p, "heartbeatd is stopping");
	while ((pn = RB_ROOT(&names)) != NULL) {
		while ((p = TAILQ_FIRST(&pn->pushes)) != NULL) {
			TAILQ_REMOVE(&pn->pushes, p, queue);
			free(p);
		}
		RB_REMOVE(push_names, &names, pn);
		free(pn);
	}
	RB_INIT(&ids);
	RB_INIT(&expiries);
	TAILQ_INIT(&flying);
	ntotal = last_id = 0;
	stats.pushes_pending = 0;
	if (ev_expire != NULL)
		event_free(ev_expire);
	if (ev_redeliver != NULL)
		event_free(ev_redeliver);
	ev_expire = ev_redeliver = NULL;
}
