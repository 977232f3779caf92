/*
 * The last-seen registry (SPEC §11): every name a client has held, with
 * its state, last address, when it entered that state, when its last
 * byte came, why it last went offline and how many sessions it had. It
 * lives in memory, and SEEN answers from here; store.c keeps a copy of
 * every change.
 *
 * Offline names also sit on a list in the order they went offline, so
 * that remember (the longest offline is forgotten first) and forget_after
 * cost O(1) per change and one timer for the list's head: no sweep over
 * the names. Names held for flapping (SPEC §12) sit on a list of their
 * own, by the end of their hold, under the same timer. Online and held
 * names are never forgotten.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "client.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "registry.h"
#include "seen.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

RB_HEAD(seen_tree, seen_entry);
TAILQ_HEAD(seen_list, seen_entry);

static int	seen_cmp(struct seen_entry *, struct seen_entry *);
static struct seen_entry *seen_new(const char *);
static void	seen_set(struct seen_entry *, enum seen_state, int64_t);
static struct seen_list *seen_list_of(const struct seen_entry *);
static int64_t	seen_due(const struct seen_entry *);
static void	seen_enlist(struct seen_entry *);
static void	seen_hold(struct seen_entry *, int64_t);
static void	seen_unhold(struct seen_entry *, int64_t);
static void	seen_forget(struct seen_entry *);
static void	seen_trim(void);
static void	seen_arm(int64_t);
static void	seen_timer_cb(evutil_socket_t, short, void *);
static void	seen_store(const struct seen_entry *);
static int	seen_order(const void *, const void *);
static int64_t	seen_last_byte(const struct seen_entry *);
static void	seen_utc(int64_t, char *, size_t);
static int	seen_reason_parse(const char *);

/* libbsd leaves __unused undefined, which RB_*_STATIC rely on. */
#define RB_STATIC	__attribute__((__unused__)) static
RB_PROTOTYPE_INTERNAL(seen_tree, seen_entry, node, seen_cmp, RB_STATIC)
RB_GENERATE_INTERNAL(seen_tree, seen_entry, node, seen_cmp, RB_STATIC)

#define SEEN_NOSTATE	SEEN__COUNT	/* a new entry, on no list yet */

const char *const seen_states[SEEN__COUNT] = {
	[SEEN_ONLINE] = "online",
	[SEEN_OFFLINE] = "offline",
	[SEEN_HELD] = "held",
};

static struct seen_tree	 names = RB_INITIALIZER(&names);
static struct seen_list	 offline = TAILQ_HEAD_INITIALIZER(offline);
static struct seen_list	 held = TAILQ_HEAD_INITIALIZER(held);
static size_t		 nnames;
static uint64_t		 remember = UINT64_MAX;	/* names */
static int64_t		 forget_after = INT32_MAX;	/* s */
static uint64_t		 flap_limit;	/* sessions; 0: off */
static int64_t		 flap_hold;	/* s */
static struct event	*ev_timer;
static int64_t		 armed;		/* Unix s the timer is for */

static int
seen_cmp(struct seen_entry *a, struct seen_entry *b)
{
	return (strcmp(a->name, b->name));
}

/*
 * Applies [state] remember and forget_after, forgetting at once, and the
 * flap damping of [server]; a hold under way keeps its end.
 */
void
seen_configure(const struct hb_config *conf)
{
	remember = conf->state_remember;
	forget_after = conf->state_forget_after;
	flap_limit = conf->flap_limit;
	flap_hold = conf->flap_hold;
	seen_trim();
	seen_tick(time(NULL));
}

static struct seen_entry *
seen_new(const char *name)
{
	struct seen_entry	*e;
	size_t			 len = strlen(name) + 1;

	e = xcalloc(1, sizeof(*e) + len);
	memcpy(e->name, name, len);
	e->addr.sa.sa_family = AF_UNSPEC;
	e->state = SEEN_NOSTATE;
	e->reason = SEEN_NOREASON;
	RB_INSERT(seen_tree, &names, e);
	nnames++;
	return (e);
}

struct seen_entry *
seen_find(const char *name)
{
	_Alignas(struct seen_entry) char buf[sizeof(struct seen_entry) +
	    HB_NAME_MAX + 1];
	struct seen_entry	*key = (struct seen_entry *)buf;

	if (strlcpy(key->name, name, HB_NAME_MAX + 1) > HB_NAME_MAX)
		return (NULL);
	return (RB_FIND(seen_tree, &names, key));
}

/* Moves e to state, entered at since, and onto the list that goes with it. */
static void
seen_set(struct seen_entry *e, enum seen_state state, int64_t since)
{
	struct seen_list	*l;

	if ((l = seen_list_of(e)) != NULL)
		TAILQ_REMOVE(l, e, entry);
	e->state = state;
	e->since = since;
	if (seen_list_of(e) != NULL)
		seen_enlist(e);
}

/* The list e is on: offline, held, or none. */
static struct seen_list *
seen_list_of(const struct seen_entry *e)
{
	if (e->state == SEEN_OFFLINE)
		return (&offline);
	if (e->state == SEEN_HELD)
		return (&held);
	return (NULL);
}

/* When the timer is due to act on e: forget it, or end its hold. */
static int64_t
seen_due(const struct seen_entry *e)
{
	return (e->state == SEEN_HELD ? e->flap_start : e->since +
	    forget_after);
}

/*
 * Puts e in its place on its list by when it is due, searching from the
 * end: O(1) for a name that changes now, and right for loaded ones too.
 */
static void
seen_enlist(struct seen_entry *e)
{
	struct seen_list	*l = seen_list_of(e);
	struct seen_entry	*after;

	after = TAILQ_LAST(l, seen_list);
	while (after != NULL && seen_due(after) > seen_due(e))
		after = TAILQ_PREV(after, seen_list, entry);
	if (after == NULL)
		TAILQ_INSERT_HEAD(l, e, entry);
	else
		TAILQ_INSERT_AFTER(l, after, e, entry);
}

/* Frees e, here and in the store. */
static void
seen_forget(struct seen_entry *e)
{
	TAILQ_REMOVE(&offline, e, entry);
	RB_REMOVE(seen_tree, &names, e);
	nnames--;
	store_forget(e->name);
	free(e);
}

/* Forgets the longest offline names while more than remember are kept. */
static void
seen_trim(void)
{
	struct seen_entry	*e;

	while (nnames > remember && (e = TAILQ_FIRST(&offline)) != NULL)
		seen_forget(e);
}

/*
 * Waits for the first moment due: the longest offline name to be
 * forgotten, or the first hold to end.
 */
static void
seen_arm(int64_t now)
{
	struct seen_entry	*o = TAILQ_FIRST(&offline), *h = TAILQ_FIRST(&held);
	struct timeval		 tv;
	int64_t			 when;

	if (o == NULL && h == NULL) {
		if (ev_timer != NULL)
			evtimer_del(ev_timer);
		return;
	}
	if (o == NULL || (h != NULL && seen_due(h) < seen_due(o)))
		when = seen_due(h);
	else
		when = seen_due(o);
	if (ev_timer == NULL && (ev_timer = evtimer_new(hb_base, seen_timer_cb,
	    NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (when == armed && evtimer_pending(ev_timer, NULL))
		return;
	armed = when;
	tv.tv_sec = when > now ? when - now : 0;
	tv.tv_usec = 0;
	evtimer_add(ev_timer, &tv);
}

static void
seen_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	seen_tick(time(NULL));
}

/* Ends the holds due by now and forgets the names offline too long. */
void
seen_tick(int64_t now)
{
	struct seen_entry	*e;

	while ((e = TAILQ_FIRST(&held)) != NULL && seen_due(e) <= now)
		seen_unhold(e, now);
	while ((e = TAILQ_FIRST(&offline)) != NULL && seen_due(e) <= now)
		seen_forget(e);
	seen_arm(now);
}

/* Hands e's new state to the store. */
static void
seen_store(const struct seen_entry *e)
{
	struct store_seen	 rec;

	strlcpy(rec.name, e->name, sizeof(rec.name));
	rec.state = seen_states[e->state];
	if (e->addr.sa.sa_family == AF_UNSPEC)
		rec.addr[0] = '\0';
	else
		addr_format(&e->addr.sa, rec.addr, sizeof(rec.addr));
	rec.since = e->since;
	rec.last_seen = e->last_seen;
	rec.reason = seen_reason(e->reason);
	rec.sessions = e->sessions;
	store_put(&rec);
}

/* A client took name at now, from addr: a session begins. */
void
seen_online(const char *name, const struct sockaddr *addr, int64_t now)
{
	struct seen_entry	*e;

	if ((e = seen_find(name)) == NULL) {
		e = seen_new(name);
		e->flap_start = now;
		e->flap_count = 1;
	}
	seen_set(e, SEEN_ONLINE, now);
	memcpy(&e->addr, addr, addr->sa_family == AF_INET6 ?
	    sizeof(e->addr.sin6) : sizeof(e->addr.sin));
	e->last_seen = now;
	e->sessions++;
	seen_store(e);
	seen_trim();
}

/*
 * The client holding name let it go at now for reason (a close reason or
 * SEEN_RENAMED); its last byte came at last_seen. A name held stays so.
 */
void
seen_offline(const char *name, int reason, int64_t last_seen, int64_t now)
{
	struct seen_entry	*e;

	if ((e = seen_find(name)) == NULL)
		return;
	e->reason = reason;
	e->last_seen = last_seen;
	if (e->state != SEEN_HELD)
		seen_set(e, SEEN_OFFLINE, now);
	seen_store(e);
	seen_trim();
	seen_arm(now);
}

/*
 * Decides on a HELLO for name at now, before it takes the name: a name
 * held is refused; one that would start more than flap_limit sessions
 * within SEEN_FLAP_WINDOW s is held from now for flap_hold s, the
 * sessions counted in *sessions. An admitted HELLO's session is counted
 * here, and begins with seen_online().
 */
enum seen_admit
seen_admit(const char *name, int64_t now, uint64_t *sessions)
{
	struct seen_entry	*e;

	if ((e = seen_find(name)) == NULL)
		return (SEEN_ADMITTED);
	if (e->state == SEEN_HELD) {
		if (seen_due(e) > now)
			return (SEEN_REFUSED);
		seen_unhold(e, now);
	}
	if (flap_limit == 0)
		return (SEEN_ADMITTED);
	if (now - e->flap_start >= SEEN_FLAP_WINDOW) {
		e->flap_start = now;
		e->flap_count = 0;
	}
	if (++e->flap_count <= flap_limit)
		return (SEEN_ADMITTED);
	*sessions = e->flap_count;
	seen_hold(e, now);
	return (SEEN_HOLDS);
}

/* Holds e from now for flap_hold s. */
static void
seen_hold(struct seen_entry *e, int64_t now)
{
	e->reason = REASON_FLAPPING;
	e->flap_start = now + flap_hold;
	seen_set(e, SEEN_HELD, now);
	seen_store(e);
	seen_arm(now);
}

/* Ends e's hold at now: it is offline, and its sessions count anew. */
static void
seen_unhold(struct seen_entry *e, int64_t now)
{
	e->flap_start = now;
	e->flap_count = 0;
	seen_set(e, SEEN_OFFLINE, now);
	seen_store(e);
	seen_trim();
}

/* RELEASE: ends the hold on name. Returns 0, or -1 when none is held. */
int
seen_release(const char *name, int64_t now)
{
	struct seen_entry	*e;

	if ((e = seen_find(name)) == NULL || e->state != SEEN_HELD)
		return (-1);
	seen_unhold(e, now);
	seen_arm(now);
	return (0);
}

/* Longest in its state first; the name breaks ties, for a stable order. */
static int
seen_order(const void *a, const void *b)
{
	const struct seen_entry	*ea = *(struct seen_entry *const *)a;
	const struct seen_entry	*eb = *(struct seen_entry *const *)b;

	if (ea->since != eb->since)
		return (ea->since < eb->since ? -1 : 1);
	return (strcmp(ea->name, eb->name));
}

/*
 * Sets *out to a new array of the entries that filter takes at now,
 * longest in its state first, and returns how many. The caller frees the
 * array, not the entries.
 */
size_t
seen_select(seen_filter filter, void *arg, int64_t now,
    struct seen_entry ***out)
{
	struct seen_entry	*e, **v = NULL;
	size_t			 n = 0, cap = 0;

	RB_FOREACH(e, seen_tree, &names) {
		if (!filter(e, now, arg))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = e;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), seen_order);
	*out = v;
	return (n);
}

/* An online name's last byte is its client's, read when asked. */
static int64_t
seen_last_byte(const struct seen_entry *e)
{
	struct client	*c;

	if (e->state != SEEN_ONLINE || (c = registry_by_name(e->name)) == NULL)
		return (e->last_seen);
	return (mono_to_unix(c->last_rx));
}

/* Writes t as UTC ISO 8601 in whole seconds: 2026-12-04T17:33:05Z. */
static void
seen_utc(int64_t t, char *buf, size_t size)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strlcpy(buf, "-", size);
}

/* Fills v with the fields of e's SEEN line as at now. */
void
seen_view(const struct seen_entry *e, int64_t now, struct seen_view *v)
{
	v->name = e->name;
	v->state = seen_states[e->state];
	if (e->addr.sa.sa_family == AF_UNSPEC)
		strlcpy(v->addr, "-", sizeof(v->addr));
	else
		addr_format(&e->addr.sa, v->addr, sizeof(v->addr));
	seen_utc(e->since, v->since, sizeof(v->since));
	v->for_secs = now > e->since ? now - e->since : 0;
	seen_utc(seen_last_byte(e), v->last_seen, sizeof(v->last_seen));
	v->reason = seen_reason(e->reason);
	v->sessions = e->sessions;
}

/* Writes e's SEEN line, as at now, into buf; returns its length. */
int
seen_format(const struct seen_entry *e, int64_t now, char *buf, size_t size)
{
	struct seen_view	 v;

	seen_view(e, now, &v);
	return (snprintf(buf, size, "SEEN %s state=%s addr=%s since=%s "
	    "for=%lld last_seen=%s reason=%s sessions=%llu", v.name, v.state,
	    v.addr, v.since, (long long)v.for_secs, v.last_seen, v.reason,
	    (unsigned long long)v.sessions));
}

/* The word for a reason as the registry keeps it. */
const char *
seen_reason(int reason)
{
	if (reason < REASON__COUNT)
		return (reason_names[reason]);
	if (reason == SEEN_RENAMED)
		return ("renamed");
	if (reason == SEEN_LOST)
		return ("lost");
	return ("-");
}

/* The reason for a word, or SEEN_NOREASON for one unknown. */
static int
seen_reason_parse(const char *word)
{
	int	 r;

	for (r = 0; r < SEEN_NOREASON; r++) {
		if (strcmp(seen_reason(r), word) == 0)
			return (r);
	}
	return (SEEN_NOREASON);
}

/*
 * Takes a record from the store at start (a store_load_cb). Nobody is
 * online yet: the store hands online names over as offline. A hold goes
 * on until flap_hold after it began.
 */
void
seen_load(const struct store_seen *rec, void *arg)
{
	struct seen_entry	*e;
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	if ((e = seen_find(rec->name)) == NULL)
		e = seen_new(rec->name);
	if (addr_parse(rec->addr, &ss, &len) == 0 && len <= sizeof(e->addr))
		memcpy(&e->addr, &ss, len);
	e->last_seen = rec->last_seen;
	e->reason = seen_reason_parse(rec->reason);
	e->sessions = rec->sessions;
	if (strcmp(rec->state, seen_states[SEEN_HELD]) == 0) {
		e->flap_start = rec->since + flap_hold;
		seen_set(e, SEEN_HELD, rec->since);
	} else
		seen_set(e, SEEN_OFFLINE, rec->since);
	seen_trim();
	seen_arm(time(NULL));
}

size_t
seen_count(void)
{
	return (nnames);
}

/* Frees every entry (the store keeps them) and the timer. */
void
seen_free(void)
{
	struct seen_entry	*e;

	while ((e = RB_ROOT(&names)) != NULL) {
		RB_REMOVE(seen_tree, &names, e);
		free(e);
	}
	TAILQ_INIT(&offline);
	TAILQ_INIT(&held);
	nnames = 0;
	if (ev_timer != NULL) {
		event_free(ev_timer);
		ev_timer = NULL;
	}
}
