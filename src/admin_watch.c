/*
 * WATCH: an admin session that streams the events, replayed from the
 * backlog and then live. It knows its session only through the accessors
 * of admin_session.h, and keeps its own list of watchers, so that the
 * live feed never walks the sessions that do not watch.
 */

#include <sys/queue.h>

#include <stdint.h>
#include <string.h>

#include <event2/buffer.h>

#include "admin_session.h"
#include "daemon.h"
#include "events.h"
#include "heartbeatd.h"
#include "proto.h"
#include "stats.h"
#include "util.h"

static int	watch_args(struct admin_session *, const char *, size_t,
		    uint64_t *, unsigned *);
static void	watch_sink(uint64_t, enum event_kind, const char *, size_t);
static void	watch_event(void *, uint64_t, enum event_kind, const char *,
		    size_t);

/* The watching sessions; the sink is registered while there is one. */
static TAILQ_HEAD(, admin_watcher) watchers = TAILQ_HEAD_INITIALIZER(watchers);

/*
 * Parses WATCH's arguments: *from is the number after FROM (UINT64_MAX
 * without one) and *verbs the kinds named after it (all when none is).
 * Returns 0, or -1 once it has answered ERR syntax.
 */
static int
watch_args(struct admin_session *s, const char *args, size_t len,
    uint64_t *from, unsigned *verbs)
{
	struct words	 first, w;
	char		 num[24];
	const char	*why;
	int		 kind;

	*verbs = 0;
	w.rest = args;
	w.restlen = len;
	if (args != NULL) {
		proto_split(args, len, &first);
		if (proto_is(&first, "FROM")) {
			if (first.rest == NULL)
				goto usage;
			proto_split(first.rest, first.restlen, &w);
			if (w.wordlen == 0 || w.wordlen >= sizeof(num))
				goto usage;
			memcpy(num, w.word, w.wordlen);
			num[w.wordlen] = '\0';
			if (parse_u64(num, 0, UINT64_MAX, from, &why) == -1)
				goto usage;
		}
	}
	while (w.rest != NULL) {
		proto_split(w.rest, w.restlen, &w);
		if (w.wordlen == 0)
			continue;
		if ((kind = events_verb(w.word, w.wordlen)) == -1) {
			admin_reply(s, "ERR syntax unknown verb: %.*s",
			    (int)(w.wordlen > 64 ? 64 : w.wordlen), w.word);
			return (-1);
		}
		*verbs |= EVENT_BIT(kind);
	}
	if (*verbs == 0)
		*verbs = EVENT_ALL;
	return (0);
usage:
	admin_reply(s, "ERR syntax usage: WATCH [FROM <seq>] [<verb>...]");
	return (-1);
}

/*
 * WATCH [FROM <seq>] [<verb>...]: "OK seq=<n>", the kept events after seq
 * up to n, then every event live; with verbs, only events of those kinds,
 * numbered as ever. A gap in the backlog is an error, so a consumer
 * always knows whether it missed something.
 */
void
admin_watch(struct admin_session *s, const char *args, size_t len)
{
	struct admin_watcher	*w = admin_watcher(s);
	uint64_t		 from = UINT64_MAX, n = stats.seq, gap;
	unsigned		 verbs;

	if (watch_args(s, args, len, &from, &verbs) == -1)
		return;
	if ((gap = events_gap(from)) != 0) {
		admin_reply(s, "ERR gap oldest=%llu", (unsigned long long)gap);
		return;
	}
	admin_reply(s, "OK seq=%llu", (unsigned long long)n);
	w->verbs = verbs;
	w->s = s;
	if (from < n) {
		events_replay(from, watch_event, w);
		w->replayed = admin_unsent(s);
	}
	if (TAILQ_EMPTY(&watchers))
		events_sink_add(watch_sink);
	TAILQ_INSERT_TAIL(&watchers, w, entry);
}

/* Writes an event to a watcher, when it is of a kind the watcher wants. */
static void
watch_event(void *arg, uint64_t seq, enum event_kind kind, const char *text,
    size_t len)
{
	struct admin_watcher	*w = arg;

	if (w->verbs & EVENT_BIT(kind))
		evbuffer_add_printf(admin_out(w->s), "EVENT %llu %.*s\n",
		    (unsigned long long)seq, (int)len, text);
}

/*
 * The live feed. A watcher more than send_buffer_limit behind (beyond
 * what its WATCH FROM replayed) is told "ERR overflow" after the events it
 * has, so it knows where to resume, and closed once that is out or once
 * writing stalls: the daemon never waits for it. A closing watcher stays
 * on the list until its session is freed: removing the sink here would
 * make events.c skip the sink after it for this event.
 */
static void
watch_sink(uint64_t seq, enum event_kind kind, const char *text, size_t len)
{
	struct admin_watcher	*w, *next;

	TAILQ_FOREACH_SAFE(w, &watchers, entry, next) {
		if (admin_closing(w->s))
			continue;
		watch_event(w, seq, kind, text, len);
		if (admin_unsent(w->s) <=
		    hb_conf->send_buffer_limit + w->replayed)
			continue;
		admin_reply(w->s, "ERR overflow");
		admin_finish_soon(w->s);
	}
}

/* Ends w's subscription, if it has one; its session is being freed. */
void
watch_stop(struct admin_watcher *w)
{
	if (w->s == NULL)
		return;
	TAILQ_REMOVE(&watchers, w, entry);
	w->s = NULL;
	if (TAILQ_EMPTY(&watchers))
		events_sink_remove(watch_sink);
}
