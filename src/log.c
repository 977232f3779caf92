/*
 * Logging that never blocks the event loop. glibc's syslog() blocks when
 * the receiver's queue is full, so heartbeatd speaks the syslog datagram
 * protocol itself: non-blocking sends to /dev/log, a short queue that the
 * event loop flushes when the socket becomes writable again, and beyond
 * that queue lines are dropped and counted (STAT log_dropped). Once
 * syslog takes lines again, one "log_dropped=N" line says what was lost.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "heartbeatd.h"
#include "log.h"

#define LOG_PATH		"/dev/log"
#define LOG_LINE_MAX		2048	/* bytes in one syslog datagram */
#define LOG_QUEUE_MAX		256	/* datagrams held while syslog is busy */

static void	log_vwrite(int, const char *, va_list, int);
static void	log_emit(int, const char *);
static void	log_syslog(int, const char *);
static int	log_connect(void);
static int	log_send(const char *, size_t);
static void	log_enqueue(const char *, size_t);
static void	log_flush_cb(evutil_socket_t, short, void *);
static void	log_report_drops(void);
static void	log_queue_clear(void);

static struct {
	char		 ident[64];
	int		 facility;
	int		 level;
	int		 use_syslog;
	int		 to_stderr;
	int		 fd;		/* /dev/log, or -1 */
	time_t		 retry_at;	/* next connect attempt when fd is -1 */
	uint64_t	 dropped;
	uint64_t	 unreported;	/* dropped since the last report */
	struct event_base *base;	/* NULL: no queue, only drops */
	struct event	*ev_flush;
	char		*queue[LOG_QUEUE_MAX];
	size_t		 qlen[LOG_QUEUE_MAX];
	size_t		 qhead, qn;
} logstate = {
	.ident = "heartbeatd", .facility = LOG_DAEMON, .level = LOG_INFO,
	.use_syslog = 1, .fd = -1
};

/* Sets the defaults of SPEC §5 until a config is loaded. */
void
log_init(const char *ident, int to_stderr)
{
	snprintf(logstate.ident, sizeof(logstate.ident), "%s", ident);
	logstate.to_stderr = to_stderr;
}

/* Applies the [log] section; takes effect for the next line. */
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
	if (logstate.qn > 0)
		log_flush_cb(logstate.fd, EV_WRITE, NULL);
	log_queue_clear();
	if (logstate.ev_flush != NULL) {
		event_free(logstate.ev_flush);
		logstate.ev_flush = NULL;
	}
	if (logstate.fd != -1) {
		close(logstate.fd);
		logstate.fd = -1;
	}
}

static void
log_queue_clear(void)
{
	while (logstate.qn > 0) {
		free(logstate.queue[logstate.qhead]);
		logstate.queue[logstate.qhead] = NULL;
		logstate.qhead = (logstate.qhead + 1) % LOG_QUEUE_MAX;
		logstate.qn--;
		logstate.dropped++;
		logstate.unreported++;
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

static int
log_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, LOG_PATH, sizeof(sun.sun_path));
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
 * Sends one datagram. Returns 0, 1 when syslog is busy (try again when
 * the socket is writable), or -1 when it is gone: then the socket is
 * closed and reconnecting waits a second, so a dead syslog costs one
 * failed send per line and never a busy retry.
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

/* Holds a line for log_flush_cb(), or drops it when the queue is full. */
static void
log_enqueue(const char *line, size_t len)
{
	size_t	 i;

	if (logstate.base == NULL || logstate.qn == LOG_QUEUE_MAX ||
	    logstate.fd == -1) {
		logstate.dropped++;
		logstate.unreported++;
		return;
	}
	i = (logstate.qhead + logstate.qn) % LOG_QUEUE_MAX;
	if ((logstate.queue[i] = malloc(len)) == NULL) {
		logstate.dropped++;
		logstate.unreported++;
		return;
	}
	memcpy(logstate.queue[i], line, len);
	logstate.qlen[i] = len;
	logstate.qn++;
	if (logstate.ev_flush == NULL)
		logstate.ev_flush = event_new(logstate.base, logstate.fd,
		    EV_WRITE | EV_PERSIST, log_flush_cb, NULL);
	if (logstate.ev_flush != NULL)
		event_add(logstate.ev_flush, NULL);
}

/* syslog is writable again: send what waited, then report any drops. */
static void
log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	size_t	 i;
	int	 rv;

	while (logstate.qn > 0) {
		i = logstate.qhead;
		if ((rv = log_send(logstate.queue[i], logstate.qlen[i])) == 1)
			return;
		free(logstate.queue[i]);
		logstate.queue[i] = NULL;
		logstate.qhead = (logstate.qhead + 1) % LOG_QUEUE_MAX;
		logstate.qn--;
		if (rv == -1) {
			logstate.dropped++;
			logstate.unreported++;
			log_queue_clear();
		}
	}
	if (logstate.ev_flush != NULL) {
		event_free(logstate.ev_flush);
		logstate.ev_flush = NULL;
	}
	log_report_drops();
}

static void
log_report_drops(void)
{
	uint64_t	 n = logstate.unreported;

	if (n == 0 || logstate.fd == -1 || logstate.qn > 0)
		return;
	logstate.unreported = 0;
	log_warnx("log_dropped=%llu", (unsigned long long)n);
}

/* Formats one RFC 3164 datagram and sends or queues it. */
static void
log_syslog(int pri, const char *msg)
{
	char		 line[LOG_LINE_MAX], stamp[32];
	struct tm	 tm;
	time_t		 now;
	int		 n;

	now = time(NULL);
	if (logstate.fd == -1 && (now < logstate.retry_at ||
	    (logstate.fd = log_connect()) == -1)) {
		if (now >= logstate.retry_at)
			logstate.retry_at = now + 1;
		logstate.dropped++;
		logstate.unreported++;
		return;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "<%d>%s %s[%ld]: %s",
	    logstate.facility | pri, stamp, logstate.ident, (long)getpid(),
	    msg);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	if (logstate.qn > 0 || log_send(line, n) == 1)
		log_enqueue(line, n);
	else if (logstate.fd == -1) {
		logstate.dropped++;
		logstate.unreported++;
	} else
		log_report_drops();
}

static void
log_emit(int pri, const char *msg)
{
	if (logstate.use_syslog)
		log_syslog(pri, msg);
	if (logstate.to_stderr)
		dprintf(STDERR_FILENO, "%s\n", msg);
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
