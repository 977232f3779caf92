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
#include <openssl/ssl.h>

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
	int	 tls_port;		/* first TLS client listener, or 0 */
	int	 admin_port;		/* first TCP admin port, or 0 */
	int	 admin_tls_port;	/* first TLS admin port, or 0 */
	char	 admin_sock[PATH_MAX];	/* admin socket path, or "" */
	int	 status;		/* exit code once reaped, else -1 */
};

/*
 * A client or admin connection with its own line buffer: plain, TLS, or
 * the stdin and stdout of a program that hbc_spawn() started. Every hbc_*
 * call below serves all three.
 */
struct hbc {
	int	 fd;
	SSL	*ssl;			/* NULL: plain */
	pid_t	 pid;			/* hbc_spawn()'s program, or 0 */
	char	 buf[65536];
	size_t	 len;
	size_t	 taken;			/* bytes of the line returned last */
	int	 eof;			/* the peer closed or reset */
	int	 notify;		/* the end was a TLS close_notify */
};

/* What a TLS client of hbc_tls_open() trusts and shows. */
struct hbc_tls {
	const char	*ca;		/* CA file that must vouch for the
					   server as "localhost" */
	const char	*cert;		/* client certificate, or NULL */
	const char	*key;
	int		 max_version;	/* e.g. TLS1_2_VERSION; 0: any */
};

/* A CA and certificates made by the openssl CLI (hb_pki_new()). */
struct hb_pki {
	char		 *ca;		/* the CA's certificate */
	char		 *cert;		/* server: CN=localhost, ECDSA P-256 */
	char		 *key;
	const char *const *cns;		/* the client certificates' CNs */
	char		**ccert;	/* ccert[i], ckey[i]: for cns[i] */
	char		**ckey;
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
/*
 * Asserts that the next log line about client #id to come is its
 * disconnect line, from 127.0.0.1, with the given name and reason.
 */
void		 hbd_expect_disconnect(struct hbd *d, int id, const char *name,
		    const char *reason);
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
/*
 * A TLS connection to 127.0.0.1:port that verifies the server against
 * cafile, with a client certificate unless certfile is NULL; aborts when
 * the handshake fails.
 */
struct hbc	*hbc_connect_tls(int port, const char *cafile,
		    const char *certfile, const char *keyfile);
/* The same, but NULL with *why (valid until the next call) when the
 * handshake fails. */
struct hbc	*hbc_tls_open(int port, const struct hbc_tls *t,
		    const char **why);
/*
 * Asserts that the server refuses a TLS handshake as t offers it: it
 * fails, or, in TLS 1.3, where the client finishes first, the server ends
 * the connection without a byte of data and without a close_notify.
 */
void		 hbc_expect_tls_refused(int port, const struct hbc_tls *t,
		    int timeout_ms);
/*
 * Starts argv (e.g. socat) with its stdin and stdout on a socket whose
 * other end is the connection returned, and its stderr on the test's.
 * hbc_close() ends the program.
 */
struct hbc	*hbc_spawn(char *const argv[]);
/* A connection to the daemon's first TCP admin port. */
struct hbc	*hbc_admin(struct hbd *d);
/* An admin session that watches every event from the first on (WATCH
 * FROM 0), its "OK seq=" line read. */
struct hbc	*hbc_watch(struct hbd *d);
/* A client of d that says HELLO name and is answered "OK #<id>". */
struct hbc	*hbc_named(struct hbd *d, int id, const char *name);
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
/* As hbc_expect_closed(), and the TLS stream ended with a close_notify
 * after which the TCP connection closed with no byte more. */
void		 hbc_expect_close_notify(struct hbc *c, int timeout_ms);
/* Asserts "BYE reason", then the close (on TLS with a close_notify). */
void		 hbc_expect_bye(struct hbc *c, const char *reason,
		    int timeout_ms);
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

/* Asserts that LIST, on a new admin session of d, answers one line per
 * prefix in want[] (NULL-terminated), starting so, then "END seq=<n>". */
void		 hbd_expect_list(struct hbd *d, const char *const want[]);

/* Runs "$HEARTBEATD args..." (NULL-terminated) and returns its exit code,
 * with its stdout and stderr in *out and *err (malloc'd, may be NULL). */
int		 hb_run(char **out, char **err, ...);
/* The same with the arguments in a NULL-terminated array. */
int		 hb_runv(char **out, char **err, char *const args[]);

/*
 * Starts another program (argv[0] looked up in $PATH) as the daemon is
 * started: stdout on outfd (-1: inherited), stderr on errfd, killed when
 * the test dies. Descriptors without close-on-exec are passed on.
 */
pid_t		 hb_spawn(char *const argv[], int outfd, int errfd);
/* Waits up to timeout_ms for pid to exit: its exit code (128+N if killed
 * by signal N), or -1 if it is still running. */
int		 hb_reap(pid_t pid, int timeout_ms);

/* Writes text (every "@DIR@" replaced by the directory) to a file name in
 * a private temp dir removed at exit; returns its path (malloc'd). */
char		*hb_write_file(const char *name, const char *text);
/*
 * A temp dir for files that outlive a daemon, such as a state file kept
 * across a restart; hb_state_rm() removes it with what it holds (else
 * it goes when the test's processes end).
 */
const char	*hb_state_dir(void);
void		 hb_state_rm(void);
/* The private directory of hb_write_file(), into dir (PATH_MAX bytes). */
void		 hb_scratch_dir(char *dir);
/* The contents of the file at path (malloc'd, NUL-terminated). */
char		*hb_read_file(const char *path);
/*
 * Asserts that s matches the POSIX extended regular expression re; s NULL
 * (a read that timed out) fails the test.
 */
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

/*
 * Makes, in a private temp dir, a CA named name, a server certificate
 * signed by it and a client certificate for each CN in cns (NULL-
 * terminated and kept; a CN need not be a valid client name). Call it
 * from test_suite(): the files are then made once, and every test, which
 * check runs in a child process, uses them.
 */
struct hb_pki	*hb_pki_new(const char *name, const char *const cns[]);
/* The client certificate and key made for cn; aborts when there is none. */
void		 hb_pki_client(const struct hb_pki *pki, const char *cn,
		    const char **cert, const char **key);

/* Adds to suite s a TCase name that runs test for _i = 0 .. n-1. */
#define HB_TCASE(s, name, test, n) do {					\
	TCase	*tc_ = tcase_create(name);				\
									\
	tcase_set_timeout(tc_, 30);					\
	tcase_add_loop_test(tc_, test, 0, n);				\
	suite_add_tcase(s, tc_);					\
} while (0)

/* One HTTP answer, as hb_http() reads it. */
struct http {
	int	 status;
	char	 ctype[256];
	long	 clen;			/* Content-Length, or -1 */
	char	 head[8192];		/* header lines, each ending "\n" */
	char	*body;			/* NUL-terminated, malloc'd */
	size_t	 bodylen;
};

/*
 * Sends an HTTP/1.0 request to 127.0.0.1:port from the local address src
 * (NULL: any): headers are extra header lines, each ending "\r\n" (NULL:
 * none; a Host line is added unless one is there), and body, unless
 * NULL, goes with its Content-Length. Returns the connection.
 */
struct hbc	*hb_http_send(int port, const char *src, const char *method,
		    const char *path, const char *headers, const char *body);
/* Reads an answer's status line and headers up to the empty line. */
void		 hb_http_head(struct hbc *h, struct http *r);
/* Reads the body until the server closes, and asserts that it does. */
void		 hb_http_body(struct hbc *h, struct http *r);
/* The three above, then closes: the whole answer in *r (free r->body). */
void		 hb_http(int port, const char *method, const char *path,
		    const char *headers, const char *body, struct http *r);
/* The value of the header name in r (valid until the next call), or
 * NULL. */
const char	*hb_http_header(const struct http *r, const char *name);
/* The largest send buffer the kernel may give a TCP socket, in bytes
 * (the most it may hold on the way to a peer that does not read). */
long		 hb_tcp_wmem_max(void);

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
