/*
 * Client events: numbering, counters, the operator's log lines and the
 * feed for WATCH, all from here so that the log, STATS and WATCH can never
 * disagree about what happened.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "client.h"
#include "events.h"
#include "log.h"
#include "proto.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define EVENT_LINE_MAX	512	/* bytes in any event but data */

static void	events_emit(int, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));

static events_sink_cb	 sink;

void
events_set_sink(events_sink_cb cb)
{
	sink = cb;
}

/*
 * Numbers an event, logs it at level (-1: not logged) and feeds the sink.
 * The text is formatted only when someone will read it.
 */
static void
events_emit(int level, const char *fmt, ...)
{
	char	 text[EVENT_LINE_MAX];
	va_list	 ap;
	int	 n;

	stats.seq++;
	if (sink == NULL && (level == -1 || !log_enabled(level)))
		return;
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	if (level != -1 && log_enabled(level))
		log_info("%s", text);
	if (sink != NULL)
		sink(stats.seq, text, n);
}

void
events_connect(const struct client *c)
{
	char	 addr[ADDR_STRLEN];

	stats.accepted++;
	if (++stats.clients > stats.clients_peak)
		stats.clients_peak = stats.clients;
	events_emit(LOG_INFO, "connect #%llu addr=%s clients=%llu",
	    (unsigned long long)c->id,
	    addr_format(&c->addr.sa, addr, sizeof(addr)),
	    (unsigned long long)stats.clients);
}

void
events_hello(const struct client *c)
{
	events_emit(LOG_INFO, "hello #%llu name=%s",
	    (unsigned long long)c->id, c->name);
}

/* A data line goes to WATCH escaped, so that an event is one line. */
void
events_data(const struct client *c, const char *line, size_t len)
{
	static char	*buf;
	static size_t	 size;
	size_t		 need;

	stats.data_lines++;
	if (sink == NULL) {
		stats.seq++;
		return;
	}
	need = PROTO_ESCAPED_MAX(len) + 32;
	if (need > size) {
		free(buf);
		buf = xmalloc(need);
		size = need;
	}
	need = snprintf(buf, size, "data #%llu ", (unsigned long long)c->id);
	need += proto_escape(line, len, buf + need);
	stats.seq++;
	sink(stats.seq, buf, need);
}

void
events_disconnect(const struct client *c, enum hb_reason reason)
{
	char		 addr[ADDR_STRLEN];
	uint64_t	 now = mono_ns();

	stats.clients--;
	stats.disconnects++;
	switch (reason) {
	case REASON_TIMEOUT:
		stats.timeouts++;
		break;
	case REASON_KICKED:
		stats.kicked++;
		break;
	case REASON_REPLACED:
		stats.replaced++;
		break;
	case REASON_OVERFLOW:
		stats.overflows++;
		break;
	default:
		break;
	}
	events_emit(LOG_INFO, "disconnect #%llu addr=%s name=%s reason=%s "
	    "age=%.1f in=%llu out=%llu clients=%llu",
	    (unsigned long long)c->id,
	    addr_format(&c->addr.sa, addr, sizeof(addr)),
	    c->name[0] != '\0' ? c->name : "-", reason_names[reason],
	    mono_seconds(c->connected, now), (unsigned long long)c->bytes_in,
	    (unsigned long long)c->bytes_out,
	    (unsigned long long)stats.clients);
}

void
events_reject(const struct sockaddr *sa, enum hb_reason reason)
{
	char	 addr[ADDR_STRLEN];

	stats.rejected++;
	events_emit(LOG_INFO, "reject addr=%s reason=%s",
	    addr_format(sa, addr, sizeof(addr)), reason_names[reason]);
}
