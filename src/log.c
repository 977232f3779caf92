/*
 * Logging that never blocks the event loop. glibc's syslog() blocks when
 * the receiver's queue is full, so heartbeatd speaks the syslog datagram
 * protocol itself: one non-blocking send per line to /dev/log, and a line
 * that cannot go at once is dropped and counted (STAT log_dropped).
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

#include "heartbeatd.h"
#include "log.h"

#define LOG_PATH		"/dev/log"
#define LOG_LINE_MAX		2048	/* bytes in one syslog datagram */
#define LOG_RECONNECT_NS	1000000000ULL

static void	log_vwrite(int, const char *, va_list, int);
static void	log_emit(int, const char *);
static void	log_syslog(int, const char *);
static int	log_connect(void);

static struct {
	char		 ident[64];
	int		 facility;
	int		 level;
	int		 use_syslog;
	int		 to_stderr;
	int		 fd;		/* /dev/log, or -1 */
	time_t		 retry_at;	/* next connect attempt when fd is -1 */
	uint64_t	 dropped;
} logstate = {
	"heartbeatd", LOG_DAEMON, LOG_INFO, 1, 0, -1, 0, 0
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

void
log_close(void)
{
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
 * Sends one RFC 3164 datagram. When /dev/log is missing or its reader is
 * gone, reconnects at most once a second, so a dead syslog costs one
 * failed send per line and never a busy retry.
 */
static void
log_syslog(int pri, const char *msg)
{
	char		 line[LOG_LINE_MAX], stamp[32];
	struct tm	 tm;
	time_t		 now;
	int		 n;

	now = time(NULL);
	if (logstate.fd == -1) {
		if (now < logstate.retry_at ||
		    (logstate.fd = log_connect()) == -1) {
			if (now >= logstate.retry_at)
				logstate.retry_at = now + 1;
			logstate.dropped++;
			return;
		}
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "<%d>%s %s[%ld]: %s",
	    logstate.facility | pri, stamp, logstate.ident, (long)getpid(),
	    msg);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	if (send(logstate.fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
		logstate.dropped++;
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ENOBUFS) {
			log_close();
			logstate.retry_at = now + 1;
		}
	}
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
