/*
 * heartbeatd behind a real HAProxy in TCP mode with send-proxy-v2 (SPEC
 * §9): a client that connects to HAProxy from 127.0.0.2 appears with its
 * own address and port, not HAProxy's, in the log, in LIST and as an @
 * target; over plain TCP, and with TLS from the client to heartbeatd
 * through HAProxy. HAProxy listens on sockets the test binds and passes
 * on (bind fd@N), so that clients can connect before it is up. Skipped
 * when haproxy is not installed.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define T		2000	/* ms to wait for an answer that is due */
#define RUN_MS		10000	/* ms for openssl and for a stop */
#define CLIENT_IP	"127.0.0.2"

/* A daemon with HAProxy in front of it. */
struct front {
	struct hbd	*d;
	int		 d_tls_port;	/* the daemon's tls_listen */
	pid_t		 pid;		/* haproxy */
	int		 port;		/* to the daemon's listen */
	int		 tls_port;	/* to its tls_listen */
	char		 dir[PATH_MAX];	/* certificate, logs */
};

static const char *haproxy_path(void);
static void	 make_cert(const char *);
static int	 listen_fd(const char *, int *);
static void	 start_daemon(struct front *);
static void	 check_config(struct front *, const char *);
static void	 start_front(struct front *);
static void	 stop_front(struct front *);
static int	 reserve_client_port(int *);
static struct hbc *tls_client(struct front *, pid_t *, int *);
static void	 expect_listed(struct hbd *, const int [2]);
static void	 in_dir(char *, const char *, const char *);
static int	 open_log(struct front *, const char *);
static const char *read_text(const char *, const char *, char *, size_t);
static void	 setup(struct front *);

/* The haproxy binary: in $PATH, or in an sbin that $PATH leaves out. */
static const char *
haproxy_path(void)
{
	static char	 path[PATH_MAX];
	static const char *const sbins[] = { "/usr/sbin", "/sbin",
	    "/usr/local/sbin" };
	const char	*env;
	char		*copy, *dir, *sp;
	size_t		 i;

	if ((env = getenv("PATH")) != NULL &&
	    (copy = strdup(env)) != NULL) {
		for (dir = strtok_r(copy, ":", &sp); dir != NULL;
		    dir = strtok_r(NULL, ":", &sp)) {
			snprintf(path, sizeof(path), "%s/haproxy", dir);
			if (access(path, X_OK) == 0) {
				free(copy);
				return (path);
			}
		}
		free(copy);
	}
	for (i = 0; i < nitems(sbins); i++) {
		snprintf(path, sizeof(path), "%s/haproxy", sbins[i]);
		if (access(path, X_OK) == 0)
			return (path);
	}
	return (NULL);
}

/* buf (PATH_MAX bytes) = dir/name. */
static void
in_dir(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		ck_abort_msg("path too long: %s/%s", dir, name);
}

/* A new, empty f->dir/name for a program's stderr; returns its fd. */
static int
open_log(struct front *f, const char *name)
{
	char	 path[PATH_MAX];
	int	 fd;

	in_dir(path, f->dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		ck_abort_msg("%s: %s", path, strerror(errno));
	return (fd);
}

/* A self-signed EC certificate and its key, dir/cert.pem and dir/key.pem. */
static void
make_cert(const char *dir)
{
	char	 cert[PATH_MAX], key[PATH_MAX];
	char	*argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
	    "-subj", "/CN=localhost", "-keyout", key, "-out", cert, NULL };
	pid_t	 pid;
	int	 code, null;

	in_dir(cert, dir, "cert.pem");
	in_dir(key, dir, "key.pem");
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		ck_abort_msg("/dev/null: %s", strerror(errno));
	pid = hb_spawn(argv, null, null);
	close(null);
	code = hb_reap(pid, RUN_MS);
	ck_assert_msg(code == 0, "openssl req: exit %d", code);
}

/*
 * A listening TCP socket on ip port 0 that a child inherits (no
 * close-on-exec). Returns it, with its port in *port.
 */
static int
listen_fd(const char *ip, int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		ck_abort_msg("listen on %s:0: %s", ip, strerror(errno));
	*port = ntohs(sin.sin_port);
	return (fd);
}

/*
 * A daemon that takes PROXY headers from 127.0.0.1, on its plain listener
 * and on a TLS listener with the certificate in f->dir.
 */
static void
start_daemon(struct front *f)
{
	char	 conf[1024 + 2 * PATH_MAX];
	int	 fd;

	f->d_tls_port = hb_reserve_port(&fd);
	if (snprintf(conf, sizeof(conf), "[server]\n"
	    "listen = 127.0.0.1:0\ntls_listen = 127.0.0.1:%d\n"
	    "proxy_from = 127.0.0.1/32\n"
	    "[admin]\nlisten = 127.0.0.1:0\n"
	    "[tls]\ncert = %s/cert.pem\nkey = %s/key.pem\n",
	    f->d_tls_port, f->dir, f->dir) >= (int)sizeof(conf))
		ck_abort_msg("config too long");
	f->d = hbd_start(conf);
	close(fd);
}

/* Reads the file dir/name into buf (size bytes), or "" if none. */
static const char *
read_text(const char *dir, const char *name, char *buf, size_t size)
{
	char	 path[PATH_MAX];
	ssize_t	 n = -1;
	int	 fd;

	in_dir(path, dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return (buf);
}

/* "haproxy -c": a config HAProxy refuses fails here, with its words. */
static void
check_config(struct front *f, const char *cfg)
{
	char	 text[4096];
	char	*argv[] = { (char *)haproxy_path(), "-c", "-q", "-f",
	    (char *)cfg, NULL };
	int	 fd, code;

	fd = open_log(f, "haproxy.err");
	code = hb_reap(hb_spawn(argv, fd, fd), RUN_MS);
	close(fd);
	ck_assert_msg(code == 0, "haproxy -c: exit %d: %s", code,
	    read_text(f->dir, "haproxy.err", text, sizeof(text)));
}

/*
 * Starts "haproxy -db" in TCP mode on two sockets bound here and passed
 * on, each forwarding to one of the daemon's listeners with a PROXY v2
 * header. No health checks: the daemon sees the clients' connections
 * only.
 */
static void
start_front(struct front *f)
{
	char	 text[1024], *cfg;
	char	*argv[] = { (char *)haproxy_path(), "-db", "-f", NULL,
	    NULL };
	int	 plain, tls, fd;

	plain = listen_fd("127.0.0.1", &f->port);
	tls = listen_fd("127.0.0.1", &f->tls_port);
	snprintf(text, sizeof(text),
	    "global\n\tmaxconn 64\n"
	    "defaults\n\tmode tcp\n\ttimeout connect 5s\n"
	    "\ttimeout client 30s\n\ttimeout server 30s\n"
	    "listen plain\n\tbind fd@%d\n"
	    "\tserver hb 127.0.0.1:%d send-proxy-v2\n"
	    "listen tls\n\tbind fd@%d\n"
	    "\tserver hb 127.0.0.1:%d send-proxy-v2\n",
	    plain, f->d->port, tls, f->d_tls_port);
	cfg = hb_write_file("haproxy.cfg", text);
	check_config(f, cfg);
	fd = open_log(f, "haproxy.err");
	argv[3] = cfg;
	f->pid = hb_spawn(argv, fd, fd);
	close(fd);
	close(plain);
	close(tls);
	free(cfg);
}

/* Stops HAProxy (SIGTERM: at once, connections and all). */
static void
stop_front(struct front *f)
{
	char	 text[4096];
	int	 code;

	kill(f->pid, SIGTERM);
	code = hb_reap(f->pid, RUN_MS);
	ck_assert_msg(code != -1, "haproxy did not stop within %d ms",
	    RUN_MS);
	ck_assert_msg(code == 0 || code == 128 + SIGTERM, "haproxy: exit %d: "
	    "%s", code, read_text(f->dir, "haproxy.err", text, sizeof(text)));
}

/*
 * A free port on CLIENT_IP for a client that binds it with SO_REUSEADDR,
 * held meanwhile by *fd (bound, not listening). Returns the port.
 */
static int
reserve_client_port(int *fd)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, CLIENT_IP, &sin.sin_addr);
	if ((*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(*fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(*fd, (struct sockaddr *)&sin, &len) == -1)
		ck_abort_msg("bind %s:0: %s", CLIENT_IP, strerror(errno));
	return (ntohs(sin.sin_port));
}

/*
 * A TLS client from CLIENT_IP to HAProxy's TLS port: socat speaks TLS on
 * one side and plain bytes on the other, a socketpair whose other end is
 * returned as a connection. Sets *pid to socat's and *port to the port
 * it connects from.
 */
static struct hbc *
tls_client(struct front *f, pid_t *pid, int *port)
{
	struct hbc	*c;
	char		 fdarg[32], tlsarg[256];
	char		*argv[] = { "socat", fdarg, tlsarg, NULL };
	int		 sv[2], hold, errfd;

	*port = reserve_client_port(&hold);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		ck_abort_msg("socketpair: %s", strerror(errno));
	if (fcntl(sv[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		ck_abort_msg("fcntl: %s", strerror(errno));
	snprintf(fdarg, sizeof(fdarg), "FD:%d", sv[1]);
	snprintf(tlsarg, sizeof(tlsarg), "OPENSSL:127.0.0.1:%d,bind=%s:%d,"
	    "reuseaddr,verify=0", f->tls_port, CLIENT_IP, *port);
	errfd = open_log(f, "socat.err");
	*pid = hb_spawn(argv, -1, errfd);
	close(errfd);
	close(sv[1]);
	close(hold);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		ck_abort_msg("out of memory");
	c->fd = sv[0];
	return (c);
}

/*
 * LIST shows unnamed clients #1 and #2 (if port[1] is not 0) from
 * CLIENT_IP, from the ports port[0] and port[1], and no other.
 */
static void
expect_listed(struct hbd *d, const int port[2])
{
	char		 line[2][128];
	const char	*want[3] = { line[0], line[1], NULL };

	snprintf(line[0], sizeof(line[0]), "CLIENT #1 name=- addr=" CLIENT_IP
	    ":%d age=", port[0]);
	snprintf(line[1], sizeof(line[1]), "CLIENT #2 name=- addr=" CLIENT_IP
	    ":%d age=", port[1]);
	if (port[1] == 0)
		want[1] = NULL;
	hbd_expect_list(d, want);
}

/* A daemon, its certificate and HAProxy in front, as f. */
static void
setup(struct front *f)
{
	memset(f, 0, sizeof(*f));
	hb_scratch_dir(f->dir);
	make_cert(f->dir);
	start_daemon(f);
	start_front(f);
}

/*
 * Plain TCP through HAProxy: each client is known by its own address and
 * port; HAProxy's never shows.
 */
START_TEST(test_haproxy_plain)
{
	struct front	 f;
	struct hbc	*c[2], *a;
	int		 port[2], i;
	char		 want[128];

	setup(&f);
	for (i = 0; i < 2; i++) {
		c[i] = hbc_connect_from(CLIENT_IP, f.port);
		hbc_send(c[i], "PING\n");
		hbc_expect(c[i], "PONG", T);
		port[i] = hbc_local_port(c[i]);
		snprintf(want, sizeof(want), "connect #%d addr=" CLIENT_IP
		    ":%d clients=%d", i + 1, port[i], i + 1);
		ck_assert_str_eq(hbd_expect_log(f.d, "connect #", T), want);
	}
	expect_listed(f.d, port);
	a = hbc_admin(f.d);
	snprintf(want, sizeof(want), "SEND @" CLIENT_IP ":%d hello", port[1]);
	ck_assert_str_eq(hbc_cmd(a, want, T), "OK 1");
	hbc_expect(c[1], "hello", T);
	hbc_send(c[0], "QUIT\n");
	hbc_expect(c[0], "BYE quit", T);
	hbc_expect_closed(c[0], T);
	snprintf(want, sizeof(want), "^disconnect #1 addr=127\\.0\\.0\\.2:%d "
	    "name=- reason=quit ", port[0]);
	hb_assert_match(hbd_expect_log(f.d, "disconnect #1", T), want);
	ck_assert_int_eq(hbc_stat(a, "proxy_failures"), 0);
	ck_assert_int_eq(hbd_log_count(f.d, "addr=127.0.0.1:"), 0);
	hbc_close(c[0]);
	hbc_close(c[1]);
	stop_front(&f);
	hbd_finish(f.d, a, NULL);
}
END_TEST

/*
 * TLS from the client to heartbeatd, HAProxy passing the bytes through
 * after its PROXY header: the client is known by its own address, on a
 * connection marked tls=yes, and its BYE comes inside TLS.
 */
START_TEST(test_haproxy_tls)
{
	struct front	 f;
	struct hbc	*c, *a;
	pid_t		 socat;
	int		 port[2] = { 0, 0 }, code;
	char		 want[128], text[4096];

	setup(&f);
	c = tls_client(&f, &socat, &port[0]);
	hbc_send(c, "PING over tls\n");
	hbc_expect(c, "PONG over tls", T);
	snprintf(want, sizeof(want), "connect #1 addr=" CLIENT_IP ":%d "
	    "clients=1 tls=yes", port[0]);
	ck_assert_str_eq(hbd_expect_log(f.d, "connect #", T), want);
	expect_listed(f.d, port);
	a = hbc_admin(f.d);
	snprintf(want, sizeof(want), "KICK @" CLIENT_IP ":%d", port[0]);
	ck_assert_str_eq(hbc_cmd(a, want, T), "OK");
	hbc_expect(c, "BYE kicked", T);
	hbc_expect_closed(c, T);
	code = hb_reap(socat, RUN_MS);
	ck_assert_msg(code == 0, "socat: exit %d: %s", code,
	    read_text(f.dir, "socat.err", text, sizeof(text)));
	ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 0);
	ck_assert_int_eq(hbc_stat(a, "proxy_failures"), 0);
	hbc_close(c);
	stop_front(&f);
	hbd_finish(f.d, a, NULL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	if (haproxy_path() == NULL) {
		printf("check_haproxy: skipped: haproxy is not installed "
		    "(./bootstrap installs it)\n");
		return (NULL);
	}
	s = suite_create("haproxy");
	HB_TCASE(s, "plain", test_haproxy_plain, 1);
	HB_TCASE(s, "tls", test_haproxy_tls, 1);
	return (s);
}
