/*
 * Integration-test harness: runs the real heartbeatd binary ($HEARTBEATD)
 * on ephemeral loopback ports and talks to it over real sockets. Every
 * wait has a deadline; nothing sleeps to synchronise.
 */

#ifndef ITEST_H
#define ITEST_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

#include <check.h>

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* A running daemon started by hbd_start(). */
struct hbd {
	pid_t	 pid;
	int	 errfd;			/* its stderr (the -f log copy) */
	char	 dir[PATH_MAX];		/* private temp dir, removed at stop */
	char	 conf[PATH_MAX];	/* dir/heartbeatd.conf */
	char	*log;			/* stderr read so far, NUL-terminated */
	size_t	 loglen;
	size_t	 logseen;		/* hbd_wait_log() consumed up to here */
	int	 port;			/* first client listener's port */
	int	 port6;			/* first IPv6 client listener, or 0 */
	int	 admin_port;		/* first TCP admin port, or 0 */
	int	 admin_tls_port;	/* first TLS admin port, or 0 */
	char	 admin_sock[PATH_MAX];	/* admin socket path, or "" */
	int	 status;		/* exit code once reaped, else -1 */
};

/* A client or admin connection with its own line buffer. */
struct hbc {
	int	 fd;
	char	 buf[65536];
	size_t	 len;
	size_t	 taken;			/* bytes of the line returned last */
	int	 eof;			/* the peer closed or reset */
};

/*
 * Writes conf (every "@DIR@" replaced by the daemon's temp dir) and starts
 * "$HEARTBEATD -f -c dir/heartbeatd.conf", then waits up to 5 s for the
 * "start " line and takes the ports from it. Aborts the test on failure.
 * The words of $HEARTBEATD_WRAPPER, if set, go before the daemon (e.g.
 * "prlimit --nofile=64:64"); the wrapper must exec it, keeping the pid.
 */
struct hbd	*hbd_start(const char *conf);
/* Sends sig, waits up to 10 s and returns the exit code (128+N if killed
 * by signal N); frees d and removes its temp dir. */
int		 hbd_stop(struct hbd *d, int sig);
/* Waits up to timeout_ms for a log line (stderr) containing substr that
 * comes after the line matched by the previous call; returns the whole
 * line (valid until the next call) or NULL. */
const char	*hbd_wait_log(struct hbd *d, const char *substr,
		    int timeout_ms);
/* Reads whatever stderr holds now, without waiting. */
void		 hbd_drain_log(struct hbd *d);
/* Counts log lines read so far that contain substr. */
int		 hbd_log_count(struct hbd *d, const char *substr);
/* As hbd_wait_log(), but aborts the test when no such line comes. */
const char	*hbd_expect_log(struct hbd *d, const char *substr,
		    int timeout_ms);
/* Waits up to timeout_ms until at least n log lines contain substr;
 * returns the count reached. */
int		 hbd_wait_count(struct hbd *d, const char *substr, int n,
		    int timeout_ms);
/* Sends sig (unless 0), waits up to 10 s for the daemon to exit and reads
 * its stderr to the end; returns the exit code as hbd_stop() does, but
 * keeps d so that its log can still be checked. hbd_stop() then frees. */
int		 hbd_exit(struct hbd *d, int sig);

/* Closes the connections given, up to a NULL, then stops d with SIGTERM
 * and asserts exit 0 (as hbd_stop(), d is freed). */
void		 hbd_finish(struct hbd *d, ...);

/* Connect to 127.0.0.1:port / [::1]:port / a Unix socket; abort on error. */
struct hbc	*hbc_connect(int port);
struct hbc	*hbc_connect6(int port);
struct hbc	*hbc_connect_unix(const char *path);
/* Connect to 127.0.0.1:port from the local address src (e.g. 127.0.0.2). */
struct hbc	*hbc_connect_from(const char *src, int port);
/* A connection to the daemon's first TCP admin port. */
struct hbc	*hbc_admin(struct hbd *d);
void		 hbc_close(struct hbc *c);
/* The local port of c, which the daemon logs in addr=. */
int		 hbc_local_port(struct hbc *c);
/* Close with RST (SO_LINGER 0). */
void		 hbc_reset(struct hbc *c);

/* Writes all of s (or len bytes of buf); aborts on error. */
void		 hbc_send(struct hbc *c, const char *s);
void		 hbc_sendn(struct hbc *c, const void *buf, size_t len);
/* Sends up to len bytes within timeout_ms; returns the count sent, which
 * is short when the connection fails midway, or -1 with errno set when it
 * fails before the first byte (EPIPE, ECONNRESET). */
ssize_t		 hbc_trysend(struct hbc *c, const void *buf, size_t len,
		    int timeout_ms);
/* Next line without its "\n" (valid until the next call on c), or NULL
 * on timeout or EOF. */
const char	*hbc_readline(struct hbc *c, int timeout_ms);
/* Asserts that the next line is exactly want (ck_assert). */
void		 hbc_expect(struct hbc *c, const char *want, int timeout_ms);
/* Returns 1 when the peer closes (EOF or reset) within timeout_ms with no
 * more lines; 0 on timeout or if a line arrived. */
int		 hbc_expect_eof(struct hbc *c, int timeout_ms);
/* Asserts that the peer closes within timeout_ms with nothing more. */
void		 hbc_expect_closed(struct hbc *c, int timeout_ms);
/* Asserts that nothing, not even EOF, arrives for ms milliseconds. */
void		 hbc_expect_silence(struct hbc *c, int ms);
/* Reads lines until one starts with prefix and returns it; aborts on
 * timeout or EOF. */
const char	*hbc_expect_prefix(struct hbc *c, const char *prefix,
		    int timeout_ms);
/* Sends cmd + "\n" and returns the first answer line (as readline). */
const char	*hbc_cmd(struct hbc *c, const char *cmd, int timeout_ms);
/* Sends cmd + "\n" and asserts that the first answer line is want. */
void		 hbc_expect_cmd(struct hbc *c, const char *cmd,
		    const char *want, int timeout_ms);
/* Sends STATS on admin session a and returns the value of "STAT key";
 * aborts when there is none or no END within 5 s. */
long long	 hbc_stat(struct hbc *a, const char *key);

/* Runs "$HEARTBEATD args..." (NULL-terminated) and returns its exit code,
 * with its stdout and stderr in *out and *err (malloc'd, may be NULL). */
int		 hb_run(char **out, char **err, ...);
/* The same with the arguments in a NULL-terminated array. */
int		 hb_runv(char **out, char **err, char *const args[]);

/* Writes text (every "@DIR@" replaced by the directory) to a file name in
 * a private temp dir removed at exit; returns its path (malloc'd). */
char		*hb_write_file(const char *name, const char *text);
/* Asserts that s matches the POSIX extended regular expression re. */
void		 hb_assert_match(const char *s, const char *re);
/*
 * Binds a non-blocking, close-on-exec AF_UNIX datagram socket at path
 * (e.g. /dev/log, to receive the daemon's syslog) unless something is
 * there already. Returns it, or -1 with *why naming what is in the way.
 * hb_dgram_unbind() closes it and removes the path (fd -1: nothing).
 */
int		 hb_dgram_bind(const char *path, const char **why);
void		 hb_dgram_unbind(int fd, const char *path);
/*
 * A free 127.0.0.1 port for a listener the test names itself (e.g.
 * [metrics] listen), held meanwhile by a socket *fd bound with
 * SO_REUSEADDR that does not listen: nothing else gets the port, yet the
 * daemon, which sets SO_REUSEADDR too, can listen there. Close *fd once
 * the daemon has started.
 */
int		 hb_reserve_port(int *fd);

/* Adds to suite s a TCase name that runs test for _i = 0 .. n-1. */
#define HB_TCASE(s, name, test, n) do {					\
	TCase	*tc_ = tcase_create(name);				\
									\
	tcase_set_timeout(tc_, 30);					\
	tcase_add_loop_test(tc_, test, 0, n);				\
	suite_add_tcase(s, tc_);					\
} while (0)

/* Milliseconds on the monotonic clock. */
long long	 hb_now_ms(void);
/*
 * How many times slower than native the daemon runs, at least 1:
 * $HB_SLOW_FACTOR, which make check sets to 3 in a --enable-sanitizers
 * build and make check-valgrind to 20. A timing assert that cannot hold
 * at that speed scales by it or skips.
 */
double		 hb_slow_factor(void);

#endif /* ITEST_H */
