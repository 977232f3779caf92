/*
 * Logging that never blocks the event loop. glibc's syslog() blocks when
 * the receiver's queue is full, so heartbeatd speaks the syslog datagram
 * protocol itself: non-blocking sends to /dev/log, and while syslog is
 * busy a queue of up to LOG_QUEUE_BYTES that the event loop flushes when
 * the socket becomes writable again. A full queue drops its oldest lines,
 * because after an outage the operator needs the latest state (who left
 * last) more than the start of the burst; lines are dropped at once while
 * there is no socket at all, where a queue would only age them. Drops are
 * counted (STAT log_dropped) by verb, and once syslog takes lines again
 * one "log_dropped lines=N <verb>=N... from=T to=T" line says what was
 * lost and when.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "heartbeatd.h"
#include "log.h"

#define LOG_PATH		"/dev/log"
#define LOG_PATH_ENV		"HEARTBEATD_SYSLOG_SOCKET"
#define LOG_LINE_MAX		2048	/* bytes in one syslog datagram */
#define LOG_QUEUE_BYTES		(4UL * 1024 * 1024)	/* held, with headers */
#define LOG_FLUSH_BURST		64	/* datagrams sent per loop turn */
#define LOG_VERBS_MAX		16	/* verbs told apart in a drop report */
#define LOG_VERB_MAX		32	/* bytes in one, with its NUL */
#define LOG_VERB_CHARS		"abcdefghijklmnopqrstuvwxyz0123456789_"

/* What the queue holds before the bytes of each datagram. */
struct log_rec {
	time_t		 when;		/* when it was logged */
	uint32_t	 len;		/* bytes of the datagram */
	uint32_t	 msg;		/* where its message starts */
};

/* A datagram with its header, as queued; line is NUL-terminated. */
struct log_held {
	struct log_rec	 rec;
	char		 line[LOG_LINE_MAX];
};

/* Lines of one verb lost since the last report. */
struct log_verb {
	char		 name[LOG_VERB_MAX];
	uint64_t	 n;
};

static void	log_vwrite(int, const char *, va_list, int);
static void	log_emit(int, const char *);
static void	log_syslog(int, const char *);
static int	log_connect(void);
static int	log_reconnect(time_t);
static int	log_send(const char *, size_t);
static void	log_enqueue(const struct log_held *);
static size_t	log_queue_peek(struct log_held *);
static void	log_queue_pop(size_t);
static void	log_queue_drop(void);
static void	log_queue_clear(void);
static void	log_flush(size_t);
static void	log_flush_cb(evutil_socket_t, short, void *);
static void	log_lost(const char *, time_t);
static void	log_verb_of(const char *, char *);
static void	log_count_verb(const char *);
static void	log_stamp(time_t, char *, size_t);
static void	log_report_drops(void);

static struct {
	char		 ident[64];
	const char	*path;		/* the syslog socket */
	int		 facility;
	int		 level;
	int		 use_syslog;
	int		 to_stderr;
	int		 configured;	/* log_configure() ran */
	int		 fd;		/* the syslog socket, or -1 */
	time_t		 retry_at;	/* next connect attempt when fd is -1 */
	uint64_t	 dropped;
	struct event_base *base;	/* NULL: no queue, only drops */
	struct event	*ev_flush;
	struct evbuffer	*queue;		/* log_rec + datagram, oldest first */
	size_t		 qbytes;	/* in queue, headers included */
} logstate = {
	.ident = "heartbeatd", .path = LOG_PATH, .facility = LOG_DAEMON,
	.level = LOG_INFO, .use_syslog = 1, .fd = -1
};

/* What was dropped since the last report: verbs sorted by name. */
static struct {
	uint64_t	 lines;
	time_t		 from, to;	/* when the first, last was logged */
	struct log_verb	 verb[LOG_VERBS_MAX];
	size_t		 nverbs;
} lost;

/*
 * Sets the defaults of SPEC §5 until a config is loaded, and the syslog
 * socket: /dev/log, or a stand-in named by $HEARTBEATD_SYSLOG_SOCKET.
 */
void
log_init(const char *ident, int to_stderr)
{
	const char	*path;

	snprintf(logstate.ident, sizeof(logstate.ident), "%s", ident);
	logstate.to_stderr = to_stderr;
	if ((path = getenv(LOG_PATH_ENV)) != NULL && *path != '\0')
		logstate.path = path;
}

/*
 * Applies the [log] section; takes effect for the next line. The first
 * time, with syslog on, it says on stderr when there is no syslog socket,
 * since every line is then dropped.
 */
void
log_configure(const struct hb_config *conf)
{
	if (strcmp(logstate.ident, conf->log_ident) != 0)
		snprintf(logstate.ident, sizeof(logstate.ident), "%s",
		    conf->log_ident);
	logstate.facility = conf->log_facility;
	logstate.level = conf->log_level;
	logstate.use_syslog = conf->log_syslog;
	if (!logstate.use_syslog)
		log_close();
	else if (!logstate.configured && logstate.fd == -1 &&
	    (logstate.fd = log_connect()) == -1)
		dprintf(STDERR_FILENO, "heartbeatd: warning: no syslog socket "
		    "at %s: %s; log lines are dropped and counted until there "
		    "is one\n", logstate.path, strerror(errno));
	logstate.configured = 1;
}

/* Lets busy syslog lines wait on the event loop instead of dropping. */
void
log_set_base(struct event_base *base)
{
	logstate.base = base;
}

/* Gives queued lines, such as the stop line, one last chance, then closes. */
void
log_close(void)
{
	if (logstate.qbytes > 0)
		log_flush(SIZE_MAX);
	log_queue_clear();
	if (logstate.queue != NULL) {
		evbuffer_free(logstate.queue);
		logstate.queue = NULL;
	}
	if (logstate.ev_flush != NULL) {
		event_free(logstate.ev_flush);
		logstate.ev_flush = NULL;
	}
	if (logstate.fd != -1) {
		close(logstate.fd);
		logstate.fd = -1;
	}
}

uint64_t
log_dropped(void)
{
	return (logstate.dropped);
}

/* Returns 1 when a line at level would be written anywhere. */
int
log_enabled(int level)
{
	return (level <= logstate.level);
}

/* Returns a socket connected to the syslog socket, or -1 with errno. */
static int
log_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, logstate.path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Connects again once a second has passed since the last attempt, so
 * that a missing syslog costs one connect a second and never a retry per
 * line. Returns 0 when connected.
 */
static int
log_reconnect(time_t now)
{
	if (now < logstate.retry_at)
		return (-1);
	if ((logstate.fd = log_connect()) == -1) {
		logstate.retry_at = now + 1;
		return (-1);
	}
	return (0);
}

/*
 * Sends one datagram. Returns 0, 1 when syslog is busy (try again when
 * the socket is writable), or -1 when it is gone: then the socket is
 * closed and log_reconnect() waits a second.
 */
static int
log_send(const char *line, size_t len)
{
	if (send(logstate.fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL) != -1)
		return (0);
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return (1);
	close(logstate.fd);
	logstate.fd = -1;
	logstate.retry_at = time(NULL) + 1;
	return (-1);
}

/*
 * Holds a datagram for log_flush_cb(), dropping the oldest ones to make
 * room; without an event loop to flush it, the datagram is dropped.
 */
static void
log_enqueue(const struct log_held *h)
{
	size_t	 need = sizeof(h->rec) + h->rec.len;

	if (logstate.base == NULL || (logstate.queue == NULL &&
	    (logstate.queue = evbuffer_new()) == NULL)) {
		log_lost(h->line + h->rec.msg, h->rec.when);
		return;
	}
	while (logstate.qbytes > 0 && logstate.qbytes + need > LOG_QUEUE_BYTES)
		log_queue_drop();
	if (evbuffer_add(logstate.queue, h, need) == -1) {
		log_lost(h->line + h->rec.msg, h->rec.when);
		return;
	}
	logstate.qbytes += need;
	if (logstate.ev_flush == NULL)
		logstate.ev_flush = event_new(logstate.base, logstate.fd,
		    EV_WRITE | EV_PERSIST, log_flush_cb, NULL);
	if (logstate.ev_flush != NULL)
		event_add(logstate.ev_flush, NULL);
}

/* Copies the oldest queued datagram to h; returns the bytes it takes. */
static size_t
log_queue_peek(struct log_held *h)
{
	evbuffer_copyout(logstate.queue, &h->rec, sizeof(h->rec));
	evbuffer_copyout(logstate.queue, h, sizeof(h->rec) + h->rec.len);
	h->line[h->rec.len] = '\0';
	return (sizeof(h->rec) + h->rec.len);
}

/* Removes the oldest queued datagram, n bytes; the queue frees as it goes. */
static void
log_queue_pop(size_t n)
{
	evbuffer_drain(logstate.queue, n);
	logstate.qbytes -= n;
}

static void
log_queue_drop(void)
{
	struct log_held	 h;

	log_queue_pop(log_queue_peek(&h));
	log_lost(h.line + h.rec.msg, h.rec.when);
}

static void
log_queue_clear(void)
{
	while (logstate.qbytes > 0)
		log_queue_drop();
}

/*
 * Sends up to max queued datagrams, oldest first, while syslog takes
 * them; once the queue is empty, reports what was dropped meanwhile.
 */
static void
log_flush(size_t max)
{
	struct log_held	 h;
	size_t		 n;
	int		 rv;

	while (logstate.qbytes > 0 && max-- > 0) {
		n = log_queue_peek(&h);
		if ((rv = log_send(h.line, h.rec.len)) == 1)
			return;
		log_queue_pop(n);
		if (rv == -1) {
			log_lost(h.line + h.rec.msg, h.rec.when);
			log_queue_clear();
		}
	}
	if (logstate.qbytes > 0)
		return;
	if (logstate.ev_flush != NULL) {
		event_free(logstate.ev_flush);
		logstate.ev_flush = NULL;
	}
	log_report_drops();
}

/*
 * syslog is writable again. A burst at a time, so that a long queue
 * does not hold up the clients.
 */
static void
log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	log_flush(LOG_FLUSH_BURST);
}

/* Counts the message msg, logged at when, as dropped. */
static void
log_lost(const char *msg, time_t when)
{
	char	 verb[LOG_VERB_MAX];

	logstate.dropped++;
	if (lost.lines++ == 0 || when < lost.from)
		lost.from = when;
	if (when > lost.to)
		lost.to = when;
	log_verb_of(msg, verb);
	log_count_verb(verb);
}

/*
 * The verb of a message is its first word, when that is a plain word
 * that cannot be mistaken for a key of the report line; else "other".
 */
static void
log_verb_of(const char *msg, char *verb)
{
	size_t	 n = strspn(msg, LOG_VERB_CHARS);

	if (n == 0 || n >= LOG_VERB_MAX || strchr(" :", msg[n]) == NULL) {
		strlcpy(verb, "other", LOG_VERB_MAX);
		return;
	}
	memcpy(verb, msg, n);
	verb[n] = '\0';
	if (strcmp(verb, "lines") == 0 || strcmp(verb, "from") == 0 ||
	    strcmp(verb, "to") == 0)
		strlcpy(verb, "other", LOG_VERB_MAX);
}

/* Counts one line of verb, under "other" once the table is full. */
static void
log_count_verb(const char *verb)
{
	size_t	 i;
	int	 cmp = 1;

	for (i = 0; i < lost.nverbs; i++)
		if ((cmp = strcmp(verb, lost.verb[i].name)) <= 0)
			break;
	if (cmp != 0 && lost.nverbs == LOG_VERBS_MAX - 1 &&
	    strcmp(verb, "other") != 0) {
		log_count_verb("other");
		return;
	}
	if (cmp != 0) {
		memmove(&lost.verb[i + 1], &lost.verb[i],
		    (lost.nverbs - i) * sizeof(lost.verb[0]));
		strlcpy(lost.verb[i].name, verb, sizeof(lost.verb[i].name));
		lost.verb[i].n = 0;
		lost.nverbs++;
	}
	lost.verb[i].n++;
}

/* Formats t as an RFC 3339 UTC time to the second. */
static void
log_stamp(time_t t, char *buf, size_t size)
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Once syslog takes lines again, says in one line what it lost. */
static void
log_report_drops(void)
{
	char	 line[LOG_LINE_MAX], from[32], to[32];
	size_t	 i, n;

	if (lost.lines == 0 || logstate.fd == -1 || logstate.qbytes > 0)
		return;
	n = snprintf(line, sizeof(line), "log_dropped lines=%llu",
	    (unsigned long long)lost.lines);
	for (i = 0; i < lost.nverbs; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%llu",
		    lost.verb[i].name, (unsigned long long)lost.verb[i].n);
	log_stamp(lost.from, from, sizeof(from));
	log_stamp(lost.to, to, sizeof(to));
	memset(&lost, 0, sizeof(lost));
	log_warnx("%s from=%s to=%s", line, from, to);
}

/* Formats one RFC 3164 datagram and sends or queues it. */
static void
log_syslog(int pri, const char *msg)
{
	struct log_held	 h;
	char		 stamp[32];
	struct tm	 tm;
	int		 n, rv = 1;

	h.rec.when = time(NULL);
	if (logstate.fd == -1 && log_reconnect(h.rec.when) == -1) {
		log_lost(msg, h.rec.when);
		return;
	}
	localtime_r(&h.rec.when, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	h.rec.msg = snprintf(h.line, sizeof(h.line), "<%d>%s %s[%ld]: ",
	    logstate.facility | pri, stamp, logstate.ident, (long)getpid());
	n = h.rec.msg + snprintf(h.line + h.rec.msg,
	    sizeof(h.line) - h.rec.msg, "%s", msg);
	if (n >= (int)sizeof(h.line))
		n = sizeof(h.line) - 1;
	h.rec.len = n;
	if (logstate.qbytes == 0)
		rv = log_send(h.line, h.rec.len);
	if (rv == 1)
		log_enqueue(&h);
	else if (rv == -1)
		log_lost(msg, h.rec.when);
	else
		log_report_drops();
}

/*
 * stderr first: sending to syslog may report drops, and that report
 * must follow the line on stderr as it does in syslog.
 */
static void
log_emit(int pri, const char *msg)
{
	if (logstate.to_stderr)
		dprintf(STDERR_FILENO, "%s\n", msg);
	if (logstate.use_syslog)
		log_syslog(pri, msg);
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	 msg[LOG_LINE_MAX];
	int	 saved_errno = errno;
	size_t	 n;

	if (!log_enabled(pri)) {
		errno = saved_errno;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s",
		    strerror(saved_errno));
	}
	log_emit(pri, msg);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_err(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, 0);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_NOTICE, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

/* Logs an impossible state with errno and exits 71 (EX_OSERR). */
void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(71);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(71);
}
