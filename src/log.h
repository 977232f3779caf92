#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdint.h>

struct event_base;
struct hb_config;

/*
 * Logging: syslog through a non-blocking datagram socket to /dev/log (or
 * $HEARTBEATD_SYSLOG_SOCKET), with a bounded queue while syslog is busy
 * (the oldest lines beyond it are dropped, counted and reported by verb),
 * and a copy on stderr when log_init() was asked for one. Every function
 * keeps errno.
 */
void		 log_init(const char *ident, int to_stderr);
void		 log_configure(const struct hb_config *);
void		 log_set_base(struct event_base *);
void		 log_close(void);
uint64_t	 log_dropped(void);
int		 log_enabled(int level);

void	log_warn(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_err(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((__format__(printf, 1, 2), __noreturn__));
void	fatalx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2), __noreturn__));

#endif /* LOG_H */
