/*
 * Integration-test harness (see itest.h): spawns the real daemon, reads
 * its log from a pipe and talks to it over sockets. Every wait goes
 * through hb_poll() with a deadline, which also keeps reading the stderr
 * of every running daemon, so that no daemon ever blocks on a full pipe
 * while a test waits for something else.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* pipe2, F_SETPIPE_SZ, memmem */
#endif

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "itest.h"

#define WAIT_MS		5000	/* connect, send, start, hb_run */
#define STOP_MS		10000	/* hbd_stop() */
#define MAX_DAEMONS	16
#define PIPE_BYTES	(1024 * 1024)
#define MEMCHECK_EXIT	99	/* a sanitizer or valgrind report */
#define WRAP_WORDS	16	/* words of $HEARTBEATD_WRAPPER */
#define PKI_DAYS	"2"	/* validity of the test certificates */
#define PKI_CURVE	"ec_paramgen_curve:P-256"

static void	 hb_init(void);
static void	 janitor(int);
static void	*xmalloc(size_t);
static char	*xstrdup(const char *);
static void	 make_tmpdir(char *);
static void	 path_join(char *, const char *, const char *);
static int	 rm_entry(const char *, const struct stat *, int,
		    struct FTW *);
static void	 write_file(const char *, const char *, const char *);
static const char *daemon_path(void);
static int	 wrapper_words(char **, int, char **);
static void	 log_pipe(int *);
static void	 memcheck(int, const char *);
static pid_t	 spawn(char *const [], int, int, int);
static int	 run(char *const [], char *[2]);
static int	 exit_code(int);
static int	 reap(pid_t, long long);
static int	 hb_poll(struct pollfd *, int, long long);
static short	 wait_fd(int, short, long long);
static int	 slurp(int, char **, size_t *);
static void	 hbd_free(struct hbd *);
static int	 parse_port(const char *);
static void	 parse_start(struct hbd *, const char *);
static const char *log_find(struct hbd *, const char *, size_t *);
static int	 log_count(struct hbd *, const char *, size_t *);
static struct hbc *hbc_connect_sa(const struct sockaddr *, socklen_t,
		    const struct sockaddr *, const char *);
static void	 hbc_consume(struct hbc *);
static ssize_t	 hbc_io(struct hbc *, int, void *, size_t, short *);
static ssize_t	 hbc_tls_io(struct hbc *, int, void *, size_t, short *);
static int	 hbc_handshake(struct hbc *, const struct hbc_tls *,
		    const char **);
static int	 hbc_fill(struct hbc *, long long);
static const char *quote(const char *, size_t);
static const char *hbc_what(struct hbc *, int);
static int	 dgram_alive(const struct sockaddr_un *);
static void	 openssl_cli(const char *, ...);
static void	 pki_cert(const struct hb_pki *, const char *, const char *,
		    const char *, const char *, int);

static struct hbd	*daemons[MAX_DAEMONS];	/* running, for hb_poll() */
static char		 filedir[PATH_MAX];	/* hb_write_file()'s */
static char		 statedir[PATH_MAX];	/* hb_state_dir()'s */
static int		 janitor_fd = -1;

/*
 * Once per process tree: a closed peer must fail a write, not kill the
 * test; and a janitor must remove the temp dirs. check ends a failed test
 * with _exit() and kills one that times out, so atexit() would not run;
 * the janitor learns each dir through a pipe and removes them all once
 * every process holding the pipe has ended. Daemons die with their test
 * (PR_SET_PDEATHSIG in spawn()).
 */
static void
hb_init(void)
{
	int	 p[2];

	if (janitor_fd != -1)
		return;
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(p, O_CLOEXEC) == -1)
		ck_abort_msg("pipe: %s", strerror(errno));
	switch (fork()) {
	case -1:
		ck_abort_msg("fork: %s", strerror(errno));
	case 0:
		janitor(p[0]);
	}
	close(p[0]);
	janitor_fd = p[1];
}

/* The janitor process: reads dir names from fd until EOF, removes them. */
static void
janitor(int fd)
{
	FILE	 *f;
	char	**dirs = NULL, line[PATH_MAX + 1];
	size_t	  i, n = 0;

	/*
	 * Out of check's process group, and holding none of the test's
	 * sockets, which would otherwise stay open after the test closes
	 * them.
	 */
	setsid();
	dup2(fd, STDIN_FILENO);
	close_range(STDERR_FILENO + 1, ~0U, 0);
	if ((f = fdopen(STDIN_FILENO, "r")) == NULL)
		_exit(1);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((dirs = reallocarray(dirs, n + 1, sizeof(*dirs))) == NULL ||
		    (dirs[n++] = strdup(line)) == NULL)
			_exit(1);
	}
	for (i = 0; i < n; i++)
		nftw(dirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	_exit(0);
}

static void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = calloc(1, n)) == NULL)
		ck_abort_msg("out of memory");
	return (p);
}

static char *
xstrdup(const char *s)
{
	char	*p;

	p = xmalloc(strlen(s) + 1);
	memcpy(p, s, strlen(s) + 1);
	return (p);
}

static void
make_tmpdir(char *dir)
{
	const char	*tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(dir, PATH_MAX, "%s/heartbeatd-test.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		ck_abort_msg("mkdtemp %s: %s", dir, strerror(errno));
	dprintf(janitor_fd, "%s\n", dir);
}

/* buf (PATH_MAX bytes) = dir/name. */
static void
path_join(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		ck_abort_msg("path too long: %s/%s", dir, name);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return (0);
}

/* Writes text to path with every "@DIR@" replaced by dir. */
static void
write_file(const char *path, const char *text, const char *dir)
{
	FILE		*f;
	const char	*at;

	if ((f = fopen(path, "w")) == NULL)
		ck_abort_msg("%s: %s", path, strerror(errno));
	while ((at = strstr(text, "@DIR@")) != NULL) {
		fwrite(text, 1, at - text, f);
		fputs(dir, f);
		text = at + strlen("@DIR@");
	}
	fputs(text, f);
	if (fclose(f) != 0)
		ck_abort_msg("%s: %s", path, strerror(errno));
}

void
hb_scratch_dir(char *dir)
{
	char	*path, *slash;

	path = hb_write_file("scratch", "");
	slash = strrchr(path, '/');
	*slash = '\0';
	snprintf(dir, PATH_MAX, "%s", path);
	free(path);
}

char *
hb_write_file(const char *name, const char *text)
{
	char	*path;

	hb_init();
	if (filedir[0] == '\0')
		make_tmpdir(filedir);
	path = xmalloc(PATH_MAX);
	path_join(path, filedir, name);
	write_file(path, text, filedir);
	return (path);
}

const char *
hb_state_dir(void)
{
	hb_init();
	if (statedir[0] == '\0')
		make_tmpdir(statedir);
	return (statedir);
}

void
hb_state_rm(void)
{
	if (statedir[0] == '\0')
		return;
	nftw(statedir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	statedir[0] = '\0';
}

static const char *
daemon_path(void)
{
	const char	*bin;

	if ((bin = getenv("HEARTBEATD")) == NULL || *bin == '\0')
		ck_abort_msg("HEARTBEATD is not set (make check sets it)");
	return (bin);
}

/*
 * Splits $HEARTBEATD_WRAPPER (e.g. "prlimit --nofile=64:64") on spaces
 * into argv, for hbd_start() to put before the daemon; the words point
 * into *copy, which the caller frees. Returns how many.
 */
static int
wrapper_words(char **argv, int max, char **copy)
{
	const char	*env;
	char		*word, *sp;
	int		 n = 0;

	*copy = NULL;
	if ((env = getenv("HEARTBEATD_WRAPPER")) == NULL)
		return (0);
	*copy = xstrdup(env);
	for (word = strtok_r(*copy, " ", &sp); word != NULL;
	    word = strtok_r(NULL, " ", &sp)) {
		if (n == max)
			ck_abort_msg("HEARTBEATD_WRAPPER: more than %d words",
			    max);
		argv[n++] = word;
	}
	return (n);
}

/*
 * Sanitizer builds and valgrind (make check-valgrind) exit 99 on a memory
 * error or a leak (see Makefile.am): that fails the test, whatever exit
 * code it expected, and shows the report from the program's stderr.
 */
static void
memcheck(int code, const char *err)
{
	const char	*report;

	if (code != MEMCHECK_EXIT)
		return;
	if ((report = strstr(err, "==")) == NULL &&
	    (report = strstr(err, "runtime error")) == NULL)
		report = err;
	ck_abort_msg("memory errors or leaks (exit %d): %s", MEMCHECK_EXIT,
	    report);
}

/* A pipe whose read end p[0] is non-blocking; both ends close on exec. */
static void
log_pipe(int *p)
{
	if (pipe2(p, O_CLOEXEC) == -1)
		ck_abort_msg("pipe: %s", strerror(errno));
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		ck_abort_msg("fcntl: %s", strerror(errno));
	/* Room for a burst of log lines; failure only costs speed. */
	(void)fcntl(p[0], F_SETPIPE_SZ, PIPE_BYTES);
}

/*
 * Starts argv with stdin on infd and stdout on outfd (-1: inherited) and
 * stderr on errfd.
 */
static pid_t
spawn(char *const argv[], int infd, int outfd, int errfd)
{
	pid_t	 pid;

	if ((pid = fork()) == -1)
		ck_abort_msg("fork: %s", strerror(errno));
	if (pid != 0)
		return (pid);
	/* Never outlive the test, even when it is killed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	if ((infd != -1 && dup2(infd, STDIN_FILENO) == -1) ||
	    (outfd != -1 && dup2(outfd, STDOUT_FILENO) == -1) ||
	    dup2(errfd, STDERR_FILENO) == -1)
		_exit(127);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int
exit_code(int status)
{
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (WEXITSTATUS(status));
}

/* Waits for pid to exit until deadline: its exit code, or -1 on timeout. */
static int
reap(pid_t pid, long long deadline)
{
	int	 fd, status;
	pid_t	 r;

	fd = syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		if ((r = waitpid(pid, &status, WNOHANG)) == pid)
			break;
		if (r == -1 && errno != EINTR)
			ck_abort_msg("waitpid %d: %s", pid, strerror(errno));
		if (hb_now_ms() >= deadline) {
			if (fd != -1)
				close(fd);
			return (-1);
		}
		if (fd != -1)
			wait_fd(fd, POLLIN, deadline);
		else
			wait_fd(-1, 0, hb_now_ms() + 10);
	}
	if (fd != -1)
		close(fd);
	return (exit_code(status));
}

/*
 * Polls the caller's n descriptors until one is ready or the deadline
 * passes, meanwhile reading every running daemon's stderr. Returns the
 * number of the caller's descriptors that are ready, 0 on timeout.
 */
static int
hb_poll(struct pollfd *pfd, int n, long long deadline)
{
	struct pollfd	 all[8 + MAX_DAEMONS];
	struct hbd	*who[8 + MAX_DAEMONS];
	long long	 left;
	int		 i, m, r, ready;

	/* No ck_assert: a passing one, too, fails outside a test. */
	if (n > 8)
		ck_abort_msg("hb_poll: %d descriptors", n);
	for (;;) {
		memcpy(all, pfd, n * sizeof(*pfd));
		for (m = n, i = 0; i < MAX_DAEMONS; i++) {
			if (daemons[i] == NULL || daemons[i]->errfd == -1)
				continue;
			all[m].fd = daemons[i]->errfd;
			all[m].events = POLLIN;
			who[m++] = daemons[i];
		}
		if ((left = deadline - hb_now_ms()) < 0)
			left = 0;
		if ((r = poll(all, m, (int)left)) == -1) {
			if (errno == EINTR)
				continue;
			ck_abort_msg("poll: %s", strerror(errno));
		}
		for (i = n; i < m; i++)
			if (all[i].revents != 0)
				hbd_drain_log(who[i]);
		for (ready = 0, i = 0; i < n; i++)
			if ((pfd[i].revents = all[i].revents) != 0)
				ready++;
		if (ready > 0 || left == 0)
			return (ready);
	}
}

/* One descriptor: its revents, or 0 on timeout. */
static short
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;

	pfd.fd = fd;
	pfd.events = events;
	if (hb_poll(&pfd, 1, deadline) == 0)
		return (0);
	return (pfd.revents);
}

/*
 * Appends what the non-blocking fd holds to *buf (kept NUL-terminated).
 * Returns 1 at EOF, else 0.
 */
static int
slurp(int fd, char **buf, size_t *len)
{
	char	 chunk[16384];
	ssize_t	 n;

	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return (0);
			ck_abort_msg("read: %s", strerror(errno));
		}
		if (n == 0)
			return (1);
		if ((*buf = realloc(*buf, *len + n + 1)) == NULL)
			ck_abort_msg("out of memory");
		memcpy(*buf + *len, chunk, n);
		*len += n;
		(*buf)[*len] = '\0';
	}
}

int
hb_run(char **out, char **err, ...)
{
	char	*args[32];
	int	 n;
	va_list	 ap;

	va_start(ap, err);
	for (n = 0; n < 31; n++)
		if ((args[n] = va_arg(ap, char *)) == NULL)
			break;
	va_end(ap);
	args[n] = NULL;
	return (hb_runv(out, err, args));
}

/*
 * Runs argv to its end, within WAIT_MS, with stdout and stderr in res[0]
 * and res[1] (malloc'd). Returns its exit code.
 */
static int
run(char *const argv[], char *res[2])
{
	size_t		 len[2] = { 0, 0 };
	struct pollfd	 pfd[2];
	int		 p[2][2], i, nopen, code;
	long long	 deadline;
	pid_t		 pid;

	hb_init();
	for (i = 0; i < 2; i++) {
		log_pipe(p[i]);
		res[i] = xstrdup("");
	}
	pid = spawn(argv, -1, p[0][1], p[1][1]);
	deadline = hb_now_ms() + WAIT_MS;
	for (i = 0; i < 2; i++) {
		close(p[i][1]);
		pfd[i].fd = p[i][0];
		pfd[i].events = POLLIN;
	}
	for (nopen = 2; nopen > 0 && hb_poll(pfd, 2, deadline) > 0;) {
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents == 0 ||
			    !slurp(pfd[i].fd, &res[i], &len[i]))
				continue;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			nopen--;
		}
	}
	for (i = 0; i < 2; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	if ((code = reap(pid, nopen > 0 ? hb_now_ms() : deadline)) == -1) {
		kill(pid, SIGKILL);
		reap(pid, hb_now_ms() + STOP_MS);
		ck_abort_msg("%s did not exit within %d ms; stdout: \"%s\", "
		    "stderr: \"%s\"", argv[0], WAIT_MS, res[0], res[1]);
	}
	return (code);
}

int
hb_runv(char **out, char **err, char *const args[])
{
	char	*argv[32], *res[2], **dst[2] = { out, err };
	int	 i, code;

	argv[0] = (char *)daemon_path();
	for (i = 0; i < 30 && args[i] != NULL; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	code = run(argv, res);
	memcheck(code, res[1]);
	for (i = 0; i < 2; i++) {
		if (dst[i] != NULL)
			*dst[i] = res[i];
		else
			free(res[i]);
	}
	return (code);
}

pid_t
hb_spawn(char *const argv[], int outfd, int errfd)
{
	hb_init();
	return (spawn(argv, -1, outfd, errfd));
}

int
hb_reap(pid_t pid, int timeout_ms)
{
	return (reap(pid, hb_now_ms() + timeout_ms));
}

struct hbd *
hbd_start(const char *conf)
{
	struct hbd	*d;
	const char	*line;
	char		*argv[WRAP_WORDS + 5], *wrap;
	int		 p[2], i, n;

	hb_init();
	d = xmalloc(sizeof(*d));
	d->status = -1;
	d->log = xstrdup("");
	make_tmpdir(d->dir);
	path_join(d->conf, d->dir, "heartbeatd.conf");
	write_file(d->conf, conf, d->dir);
	for (i = 0; i < MAX_DAEMONS && daemons[i] != NULL; i++)
		;
	ck_assert_msg(i < MAX_DAEMONS, "more than %d daemons", MAX_DAEMONS);
	daemons[i] = d;

	n = wrapper_words(argv, WRAP_WORDS, &wrap);
	argv[n++] = (char *)daemon_path();
	argv[n++] = "-f";
	argv[n++] = "-c";
	argv[n++] = d->conf;
	argv[n] = NULL;
	log_pipe(p);
	d->pid = spawn(argv, -1, -1, p[1]);
	free(wrap);
	close(p[1]);
	d->errfd = p[0];
	if ((line = hbd_wait_log(d, "start version=", WAIT_MS)) == NULL) {
		hbd_exit(d, SIGKILL);
		ck_abort_msg("heartbeatd logged no start line within %d ms "
		    "(exit %d); stderr: \"%s\"", WAIT_MS, d->status, d->log);
	}
	parse_start(d, line);
	return (d);
}

/* The port of "1.2.3.4:P" or "[::1]:P". */
static int
parse_port(const char *addr)
{
	const char	*colon;

	if ((colon = strrchr(addr, ':')) == NULL)
		ck_abort_msg("no port in \"%s\"", addr);
	return (atoi(colon + 1));
}

/*
 * Takes the listeners from "start version=V listen=A,B [tls=C,D]
 * admin=E,tls:F,PATH timeout=T": an admin entry that is neither an
 * address nor "tls:" and one is the socket path.
 */
static void
parse_start(struct hbd *d, const char *line)
{
	char	*copy, *word, *addr, *sp, *sa;

	copy = xstrdup(line);
	for (word = strtok_r(copy, " ", &sp); word != NULL;
	    word = strtok_r(NULL, " ", &sp)) {
		if (strncmp(word, "listen=", 7) == 0) {
			for (addr = strtok_r(word + 7, ",", &sa); addr != NULL;
			    addr = strtok_r(NULL, ",", &sa)) {
				if (d->port == 0)
					d->port = parse_port(addr);
				if (*addr == '[' && d->port6 == 0)
					d->port6 = parse_port(addr);
			}
		} else if (strncmp(word, "tls=", 4) == 0) {
			addr = strtok_r(word + 4, ",", &sa);
			d->tls_port = parse_port(addr);
		} else if (strncmp(word, "admin=", 6) == 0) {
			for (addr = strtok_r(word + 6, ",", &sa); addr != NULL;
			    addr = strtok_r(NULL, ",", &sa)) {
				if (strcmp(addr, "none") == 0)
					continue;
				if (strncmp(addr, "tls:", 4) == 0) {
					if (d->admin_tls_port == 0)
						d->admin_tls_port =
						    parse_port(addr);
				} else if (*addr == '[' || (*addr >= '0' &&
				    *addr <= '9')) {
					if (d->admin_port == 0)
						d->admin_port =
						    parse_port(addr);
				} else if (d->admin_sock[0] == '\0')
					snprintf(d->admin_sock,
					    sizeof(d->admin_sock), "%s", addr);
			}
		}
	}
	free(copy);
	ck_assert_msg(d->port != 0, "no client port in \"%s\"", line);
}

int
hbd_exit(struct hbd *d, int sig)
{
	if (d->pid <= 0)
		return (d->status);
	if (sig != 0)
		kill(d->pid, sig);
	if ((d->status = reap(d->pid, hb_now_ms() + STOP_MS)) == -1) {
		kill(d->pid, SIGKILL);
		d->status = reap(d->pid, hb_now_ms() + STOP_MS);
		d->pid = -1;
		ck_abort_msg("heartbeatd did not exit within %d ms of signal "
		    "%d; killed", STOP_MS, sig);
	}
	d->pid = -1;
	hbd_drain_log(d);
	memcheck(d->status, d->log);
	return (d->status);
}

int
hbd_stop(struct hbd *d, int sig)
{
	int	 code;

	code = hbd_exit(d, sig);
	hbd_free(d);
	return (code);
}

void
hbd_finish(struct hbd *d, ...)
{
	struct hbc	*c;
	va_list		 ap;

	va_start(ap, d);
	while ((c = va_arg(ap, struct hbc *)) != NULL)
		hbc_close(c);
	va_end(ap);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
}

static void
hbd_free(struct hbd *d)
{
	int	 i;

	for (i = 0; i < MAX_DAEMONS; i++)
		if (daemons[i] == d)
			daemons[i] = NULL;
	if (d->errfd != -1)
		close(d->errfd);
	nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(d->log);
	free(d);
}

void
hbd_drain_log(struct hbd *d)
{
	if (d->errfd == -1)
		return;
	if (slurp(d->errfd, &d->log, &d->loglen)) {
		close(d->errfd);
		d->errfd = -1;
	}
}

/*
 * The first complete line at or after *from that contains substr, or
 * NULL; *from is left at the first line not yet searched, or past the
 * line found.
 */
static const char *
log_find(struct hbd *d, const char *substr, size_t *from)
{
	char	*line, *nl;

	while ((nl = memchr(d->log + *from, '\n', d->loglen - *from)) !=
	    NULL) {
		line = d->log + *from;
		*from = nl - d->log + 1;
		if (memmem(line, nl - line, substr, strlen(substr)) != NULL)
			return (line);
	}
	return (NULL);
}

const char *
hbd_wait_log(struct hbd *d, const char *substr, int timeout_ms)
{
	static char	*copy;
	const char	*line;
	long long	 deadline;
	size_t		 from, n;

	deadline = hb_now_ms() + timeout_ms;
	from = d->logseen;
	hbd_drain_log(d);
	while ((line = log_find(d, substr, &from)) == NULL) {
		if (d->errfd == -1 || hb_now_ms() >= deadline)
			return (NULL);
		wait_fd(d->errfd, POLLIN, deadline);
	}
	d->logseen = from;
	n = strcspn(line, "\n");
	free(copy);
	copy = xmalloc(n + 1);
	memcpy(copy, line, n);
	return (copy);
}

const char *
hbd_expect_log(struct hbd *d, const char *substr, int timeout_ms)
{
	const char	*line;
	size_t		 seen;

	seen = d->logseen;
	if ((line = hbd_wait_log(d, substr, timeout_ms)) == NULL)
		ck_abort_msg("expected a log line with \"%s\" within %d ms; "
		    "log since the last match: \"%s\"", substr, timeout_ms,
		    d->log + seen);
	return (line);
}

void
hbd_expect_disconnect(struct hbd *d, int id, const char *name,
    const char *reason)
{
	char	 what[32], re[256];

	snprintf(what, sizeof(what), "disconnect #%d ", id);
	snprintf(re, sizeof(re), "^disconnect #%d addr=127\\.0\\.0\\.1:[0-9]+ "
	    "name=%s reason=%s age=[0-9]+\\.[0-9] in=[0-9]+ out=[0-9]+ "
	    "clients=[0-9]+$", id, name, reason);
	hb_assert_match(hbd_expect_log(d, what, WAIT_MS), re);
}

/* Counts the lines from *from on that contain substr; see log_find(). */
static int
log_count(struct hbd *d, const char *substr, size_t *from)
{
	int	 n;

	for (n = 0; log_find(d, substr, from) != NULL; n++)
		;
	return (n);
}

int
hbd_log_count(struct hbd *d, const char *substr)
{
	size_t	 from = 0;

	return (log_count(d, substr, &from));
}

int
hbd_wait_count(struct hbd *d, const char *substr, int n, int timeout_ms)
{
	long long	 deadline;
	size_t		 from = 0;
	int		 count;

	deadline = hb_now_ms() + timeout_ms;
	hbd_drain_log(d);
	count = log_count(d, substr, &from);
	while (count < n && d->errfd != -1 && hb_now_ms() < deadline) {
		wait_fd(d->errfd, POLLIN, deadline);
		count += log_count(d, substr, &from);
	}
	return (count);
}

/* Connects a non-blocking socket to sa, from src if not NULL. */
static struct hbc *
hbc_connect_sa(const struct sockaddr *sa, socklen_t len,
    const struct sockaddr *src, const char *what)
{
	struct hbc	*c;
	socklen_t	 elen;
	int		 error;

	hb_init();
	c = xmalloc(sizeof(*c));
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		ck_abort_msg("socket for %s: %s", what, strerror(errno));
	if (src != NULL && bind(c->fd, src, len) == -1)
		ck_abort_msg("bind before connecting to %s: %s", what,
		    strerror(errno));
	error = 0;
	if (connect(c->fd, sa, len) == -1) {
		if (errno != EINPROGRESS)
			error = errno;
		else if (wait_fd(c->fd, POLLOUT, hb_now_ms() + WAIT_MS) == 0)
			error = ETIMEDOUT;
		else {
			elen = sizeof(error);
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &elen);
		}
	}
	if (error != 0)
		ck_abort_msg("connect %s: %s", what, strerror(error));
	return (c);
}

struct hbc *
hbc_connect(int port)
{
	return (hbc_connect_from(NULL, port));
}

struct hbc *
hbc_connect_from(const char *src, int port)
{
	struct sockaddr_in	 sin, from;
	char			 what[64];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	from = sin;
	from.sin_port = 0;
	if (src != NULL && inet_pton(AF_INET, src, &from.sin_addr) != 1)
		ck_abort_msg("bad source address \"%s\"", src);
	snprintf(what, sizeof(what), "127.0.0.1:%d", port);
	return (hbc_connect_sa((struct sockaddr *)&sin, sizeof(sin),
	    src != NULL ? (struct sockaddr *)&from : NULL, what));
}

struct hbc *
hbc_connect6(int port)
{
	struct sockaddr_in6	 sin6;
	char			 what[64];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	sin6.sin6_addr = in6addr_loopback;
	snprintf(what, sizeof(what), "[::1]:%d", port);
	return (hbc_connect_sa((struct sockaddr *)&sin6, sizeof(sin6), NULL,
	    what));
}

struct hbc *
hbc_connect_unix(const char *path)
{
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		ck_abort_msg("socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	return (hbc_connect_sa((struct sockaddr *)&sun, sizeof(sun), NULL,
	    path));
}

/*
 * Runs the client side of a TLS handshake on c as t says. Returns 0, or
 * -1 with *why when it fails or takes longer than WAIT_MS.
 */
static int
hbc_handshake(struct hbc *c, const struct hbc_tls *t, const char **why)
{
	static char	 buf[256];
	SSL_CTX		*ctx;
	long long	 deadline;
	unsigned long	 e;
	short		 ev;
	int		 n;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		ck_abort_msg("SSL_CTX_new failed");
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (t->max_version != 0)
		SSL_CTX_set_max_proto_version(ctx, t->max_version);
	if (t->ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, t->ca, NULL) != 1)
			ck_abort_msg("cannot load CA file %s", t->ca);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (t->cert != NULL && (SSL_CTX_use_certificate_chain_file(ctx,
	    t->cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, t->key,
	    SSL_FILETYPE_PEM) != 1))
		ck_abort_msg("cannot load %s and %s", t->cert, t->key);
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		ck_abort_msg("SSL_new failed");
	SSL_CTX_free(ctx);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	if (t->ca != NULL)
		SSL_set1_host(c->ssl, "localhost");
	deadline = hb_now_ms() + WAIT_MS;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_connect(c->ssl)) == 1)
			return (0);
		switch (SSL_get_error(c->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			ev = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			ev = POLLOUT;
			break;
		default:
			if ((e = ERR_peek_last_error()) != 0)
				ERR_error_string_n(e, buf, sizeof(buf));
			else
				snprintf(buf, sizeof(buf), "%s", errno != 0 ?
				    strerror(errno) : "the server closed");
			ERR_clear_error();
			*why = buf;
			return (-1);
		}
		if (wait_fd(c->fd, ev, deadline) == 0) {
			snprintf(buf, sizeof(buf), "no handshake within %d ms",
			    WAIT_MS);
			*why = buf;
			return (-1);
		}
	}
}

struct hbc *
hbc_tls_open(int port, const struct hbc_tls *t, const char **why)
{
	struct hbc	*c;

	c = hbc_connect(port);
	if (hbc_handshake(c, t, why) == -1) {
		hbc_close(c);
		return (NULL);
	}
	return (c);
}

struct hbc *
hbc_connect_tls(int port, const char *cafile, const char *certfile,
    const char *keyfile)
{
	struct hbc_tls	 t = { cafile, certfile, keyfile, 0 };
	struct hbc	*c;
	const char	*why;

	if ((c = hbc_tls_open(port, &t, &why)) == NULL)
		ck_abort_msg("TLS handshake with 127.0.0.1:%d: %s", port, why);
	return (c);
}

void
hbc_expect_tls_refused(int port, const struct hbc_tls *t, int timeout_ms)
{
	struct hbc	*c;
	const char	*why;

	if ((c = hbc_tls_open(port, t, &why)) == NULL)
		return;
	hbc_expect_closed(c, timeout_ms);
	ck_assert_msg(!c->notify, "a TLS session was established and closed "
	    "cleanly, not refused");
	hbc_close(c);
}

struct hbc *
hbc_spawn(char *const argv[])
{
	struct hbc	*c;
	int		 sv[2];

	hb_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		ck_abort_msg("socketpair: %s", strerror(errno));
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		ck_abort_msg("fcntl: %s", strerror(errno));
	c = xmalloc(sizeof(*c));
	c->fd = sv[0];
	c->pid = spawn(argv, sv[1], sv[1], STDERR_FILENO);
	close(sv[1]);
	return (c);
}

struct hbc *
hbc_admin(struct hbd *d)
{
	ck_assert_msg(d->admin_port != 0, "the daemon has no TCP admin port");
	return (hbc_connect(d->admin_port));
}

struct hbc *
hbc_watch(struct hbd *d)
{
	struct hbc	*w;

	w = hbc_admin(d);
	hbc_send(w, "WATCH FROM 0\n");
	hb_assert_match(hbc_readline(w, WAIT_MS), "^OK seq=[0-9]+$");
	return (w);
}

struct hbc *
hbc_named(struct hbd *d, int id, const char *name)
{
	struct hbc	*c;
	char		 buf[96];

	c = hbc_connect(d->port);
	snprintf(buf, sizeof(buf), "HELLO %s\n", name);
	hbc_send(c, buf);
	snprintf(buf, sizeof(buf), "OK #%d", id);
	hbc_expect(c, buf, WAIT_MS);
	return (c);
}

void
hbc_close(struct hbc *c)
{
	SSL_free(c->ssl);
	close(c->fd);
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		if (reap(c->pid, hb_now_ms() + STOP_MS) == -1)
			ck_abort_msg("%d did not exit within %d ms of SIGTERM",
			    (int)c->pid, STOP_MS);
	}
	free(c);
}

int
hbc_local_port(struct hbc *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == -1)
		ck_abort_msg("getsockname: %s", strerror(errno));
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

void
hbc_reset(struct hbc *c)
{
	struct linger	 l = { 1, 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	hbc_close(c);
}

ssize_t
hbc_trysend(struct hbc *c, const void *buf, size_t len, int timeout_ms)
{
	long long	 deadline;
	size_t		 off;
	ssize_t		 n;

	short		 ev;

	deadline = hb_now_ms() + timeout_ms;
	for (off = 0; off < len;) {
		if ((n = hbc_io(c, 1, (char *)buf + off, len - off,
		    &ev)) > 0) {
			off += n;
			continue;
		}
		if (ev == 0)
			return (off > 0 ? (ssize_t)off : -1);
		if (wait_fd(c->fd, ev, deadline) == 0)
			break;
	}
	return (off);
}

void
hbc_sendn(struct hbc *c, const void *buf, size_t len)
{
	ssize_t	 n;

	if ((n = hbc_trysend(c, buf, len, WAIT_MS)) == -1)
		ck_abort_msg("send: %s", strerror(errno));
	ck_assert_msg((size_t)n == len, "sent only %zd of %zu bytes within "
	    "%d ms", n, len, WAIT_MS);
}

void
hbc_send(struct hbc *c, const char *s)
{
	hbc_sendn(c, s, strlen(s));
}

/* Drops the line returned last. */
static void
hbc_consume(struct hbc *c)
{
	memmove(c->buf, c->buf + c->taken, c->len - c->taken);
	c->len -= c->taken;
	c->taken = 0;
	c->buf[c->len] = '\0';
}

/*
 * One read (out 0) or write (out 1) on c, plain or TLS. Returns the bytes
 * moved, 0 at the end of the stream, or -1 with *ev the poll event to wait
 * for, or 0 when the connection failed (errno says why).
 */
static ssize_t
hbc_io(struct hbc *c, int out, void *buf, size_t len, short *ev)
{
	ssize_t	 n;

	*ev = 0;
	if (c->ssl != NULL)
		return (hbc_tls_io(c, out, buf, len, ev));
	if (out)
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
	else
		n = read(c->fd, buf, len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		*ev = out ? POLLOUT : POLLIN;
	return (n);
}

/*
 * hbc_io() for TLS. A read that meets a close_notify sets c->notify; one
 * that meets a bare EOF, an alert or a reset is the end of the stream too,
 * without it.
 */
static ssize_t
hbc_tls_io(struct hbc *c, int out, void *buf, size_t len, short *ev)
{
	int	 n;

	ERR_clear_error();
	errno = 0;
	if (len > INT_MAX)
		len = INT_MAX;
	n = out ? SSL_write(c->ssl, buf, len) : SSL_read(c->ssl, buf, len);
	if (n > 0)
		return (n);
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		*ev = POLLIN;
		return (-1);
	case SSL_ERROR_WANT_WRITE:
		*ev = POLLOUT;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
		c->notify = 1;
		return (0);
	}
	ERR_clear_error();
	if (!out)
		return (0);
	if (errno == 0)
		errno = ECONNRESET;
	return (-1);
}

/* Reads what arrives before deadline: 1 if bytes or EOF came, else 0. */
static int
hbc_fill(struct hbc *c, long long deadline)
{
	ssize_t	 n;
	short	 ev;

	if (c->len == sizeof(c->buf) - 1)
		ck_abort_msg("a line longer than %zu bytes arrived",
		    sizeof(c->buf) - 1);
	while (!c->eof) {
		n = hbc_io(c, 0, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		    &ev);
		if (n > 0) {
			c->len += n;
			c->buf[c->len] = '\0';
			return (1);
		}
		if (n == 0 || (ev == 0 && errno == ECONNRESET))
			c->eof = 1;
		else if (ev == 0)
			ck_abort_msg("read: %s", strerror(errno));
		else if (wait_fd(c->fd, ev, deadline) == 0)
			return (0);
	}
	return (1);
}

const char *
hbc_readline(struct hbc *c, int timeout_ms)
{
	long long	 deadline;
	char		*nl;

	deadline = hb_now_ms() + timeout_ms;
	hbc_consume(c);
	while ((nl = memchr(c->buf, '\n', c->len)) == NULL)
		if (c->eof || !hbc_fill(c, deadline))
			return (NULL);
	*nl = '\0';
	c->taken = nl - c->buf + 1;
	return (c->buf);
}

/*
 * len bytes of s in quotes, with control bytes, quotes and backslashes
 * escaped, so that a message shows a stray "\r" or NUL. The two most
 * recent results stay valid.
 */
static const char *
quote(const char *s, size_t len)
{
	static char	 buf[2][600];
	static int	 which;
	char		*q, *end;
	size_t		 i;

	which = !which;
	q = buf[which];
	end = q + sizeof(buf[0]) - 8;
	*q++ = '"';
	for (i = 0; i < len && q < end; i++) {
		if (s[i] == '"' || s[i] == '\\')
			q += sprintf(q, "\\%c", s[i]);
		else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			q += sprintf(q, "\\x%02x", (unsigned char)s[i]);
		else
			*q++ = s[i];
	}
	strcpy(q, i < len ? "\"..." : "\"");
	return (buf[which]);
}

/* Says what came instead of a line after a read that returned NULL. */
static const char *
hbc_what(struct hbc *c, int timeout_ms)
{
	static char	 what[700];

	if (c->len == 0)
		snprintf(what, sizeof(what), "%s within %d ms",
		    c->eof ? "EOF" : "nothing", timeout_ms);
	else
		snprintf(what, sizeof(what), "%s after a partial line %s",
		    c->eof ? "EOF" : "nothing more", quote(c->buf, c->len));
	return (what);
}

void
hbc_expect(struct hbc *c, const char *want, int timeout_ms)
{
	const char	*line;

	if ((line = hbc_readline(c, timeout_ms)) == NULL)
		ck_abort_msg("expected %s, got %s", quote(want, strlen(want)),
		    hbc_what(c, timeout_ms));
	ck_assert_msg(c->taken - 1 == strlen(want) && strcmp(line, want) == 0,
	    "expected %s, got %s", quote(want, strlen(want)),
	    quote(line, c->taken - 1));
}

int
hbc_expect_eof(struct hbc *c, int timeout_ms)
{
	long long	 deadline;

	deadline = hb_now_ms() + timeout_ms;
	hbc_consume(c);
	while (!c->eof && memchr(c->buf, '\n', c->len) == NULL)
		if (!hbc_fill(c, deadline))
			return (0);
	return (c->eof && c->len == 0);
}

void
hbc_expect_closed(struct hbc *c, int timeout_ms)
{
	const char	*line;

	if (hbc_expect_eof(c, timeout_ms))
		return;
	if ((line = hbc_readline(c, 0)) != NULL)
		ck_abort_msg("expected EOF, got %s", quote(line, c->taken - 1));
	ck_abort_msg("expected EOF, got %s", hbc_what(c, timeout_ms));
}

void
hbc_expect_close_notify(struct hbc *c, int timeout_ms)
{
	long long	 deadline;
	char		 byte;
	ssize_t		 n;

	hbc_expect_closed(c, timeout_ms);
	ck_assert_msg(c->ssl != NULL, "not a TLS connection");
	ck_assert_msg(c->notify, "the TLS stream ended without close_notify");
	deadline = hb_now_ms() + timeout_ms;
	while ((n = recv(c->fd, &byte, 1, 0)) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		if (wait_fd(c->fd, POLLIN, deadline) == 0)
			ck_abort_msg("no TCP close within %d ms of the "
			    "close_notify", timeout_ms);
	ck_assert_msg(n == 0 || errno == ECONNRESET,
	    "bytes after the close_notify");
}

void
hbc_expect_bye(struct hbc *c, const char *reason, int timeout_ms)
{
	char	 want[64];

	snprintf(want, sizeof(want), "BYE %s", reason);
	hbc_expect(c, want, timeout_ms);
	if (c->ssl != NULL)
		hbc_expect_close_notify(c, timeout_ms);
	else
		hbc_expect_closed(c, timeout_ms);
}

void
hbc_expect_silence(struct hbc *c, int ms)
{
	long long	 deadline;

	deadline = hb_now_ms() + ms;
	hbc_consume(c);
	if (c->len == 0 && !hbc_fill(c, deadline))
		return;
	if (c->len > 0)
		ck_abort_msg("expected silence for %d ms, got %s", ms,
		    quote(c->buf, c->len));
	ck_abort_msg("expected silence for %d ms, got EOF", ms);
}

const char *
hbc_expect_prefix(struct hbc *c, const char *prefix, int timeout_ms)
{
	const char	*line;
	long long	 deadline;
	int		 left;

	deadline = hb_now_ms() + timeout_ms;
	do {
		if ((left = deadline - hb_now_ms()) < 0)
			left = 0;
		if ((line = hbc_readline(c, left)) == NULL)
			ck_abort_msg("expected a line starting %s, got %s",
			    quote(prefix, strlen(prefix)),
			    hbc_what(c, timeout_ms));
	} while (strncmp(line, prefix, strlen(prefix)) != 0);
	return (line);
}

const char *
hbc_cmd(struct hbc *c, const char *cmd, int timeout_ms)
{
	char	*line;
	size_t	 n;

	n = strlen(cmd);
	line = xmalloc(n + 1);
	memcpy(line, cmd, n);
	line[n] = '\n';
	hbc_sendn(c, line, n + 1);
	free(line);
	return (hbc_readline(c, timeout_ms));
}

void
hbc_expect_cmd(struct hbc *c, const char *cmd, const char *want,
    int timeout_ms)
{
	const char	*line;

	line = hbc_cmd(c, cmd, timeout_ms);
	ck_assert_msg(line != NULL, "\"%.64s\": no answer", cmd);
	ck_assert_msg(strcmp(line, want) == 0,
	    "\"%.64s\": want \"%s\", got \"%s\"", cmd, want, line);
}

long long
hbc_stat(struct hbc *a, const char *key)
{
	const char	*line;
	char		 want[128];
	long long	 v = -1;
	size_t		 n;

	n = snprintf(want, sizeof(want), "STAT %s ", key);
	hbc_send(a, "STATS\n");
	while ((line = hbc_readline(a, WAIT_MS)) != NULL &&
	    strcmp(line, "END") != 0)
		if (strncmp(line, want, n) == 0)
			v = strtoll(line + n, NULL, 10);
	ck_assert_msg(line != NULL, "STATS: no END within %d ms", WAIT_MS);
	ck_assert_msg(v != -1, "no STAT %s", key);
	return (v);
}

void
hbd_expect_list(struct hbd *d, const char *const want[])
{
	struct hbc	*a;
	const char	*line;

	a = hbc_admin(d);
	hbc_send(a, "LIST\n");
	for (; *want != NULL; want++) {
		line = hbc_readline(a, WAIT_MS);
		ck_assert_msg(line != NULL && strncmp(line, *want,
		    strlen(*want)) == 0, "expected a LIST line starting "
		    "\"%s\", got \"%s\"", *want, line ? line : "(none)");
	}
	hb_assert_match(hbc_readline(a, WAIT_MS), "^END seq=[0-9]+$");
	hbc_close(a);
}

/* Whether something receives datagrams at sun (e.g. a running syslog). */
static int
dgram_alive(const struct sockaddr_un *sun)
{
	int	 fd, ok;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (0);
	ok = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return (ok);
}

int
hb_dgram_bind(const char *path, const char **why)
{
	static char		 buf[PATH_MAX + 64];
	struct sockaddr_un	 sun;
	struct stat		 sb;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		ck_abort_msg("socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	if (lstat(path, &sb) == 0) {
		snprintf(buf, sizeof(buf), S_ISSOCK(sb.st_mode) &&
		    dgram_alive(&sun) ? "a running receiver owns %s" :
		    "%s exists and is not ours", path);
		*why = buf;
		return (-1);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		ck_abort_msg("socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(buf, sizeof(buf), "cannot bind %s: %s", path,
		    strerror(errno));
		*why = buf;
		close(fd);
		return (-1);
	}
	return (fd);
}

void
hb_dgram_unbind(int fd, const char *path)
{
	if (fd == -1)
		return;
	close(fd);
	unlink(path);
}

int
hb_reserve_port(int *fd)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 on = 1;

	if ((*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		ck_abort_msg("socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(*fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(*fd, (struct sockaddr *)&sin, &len) == -1)
		ck_abort_msg("bind 127.0.0.1:0: %s", strerror(errno));
	return (ntohs(sin.sin_port));
}

char *
hb_read_file(const char *path)
{
	char	*text;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		ck_abort_msg("%s: %s", path, strerror(errno));
	text = xstrdup("");
	slurp(fd, &text, &len);		/* a file never says EAGAIN */
	close(fd);
	return (text);
}

void
hb_assert_match(const char *s, const char *re)
{
	regex_t	 r;
	int	 rc;

	/* A read that timed out gives no line: a failure, not a crash. */
	ck_assert_msg(s != NULL, "expected a match for /%s/, got no line",
	    re);
	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		ck_abort_msg("bad regular expression /%s/", re);
	rc = regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	ck_assert_msg(rc == 0, "expected a match for /%s/, got \"%s\"", re, s);
}

double
hb_slow_factor(void)
{
	const char	*s;
	double		 f;

	if ((s = getenv("HB_SLOW_FACTOR")) == NULL ||
	    (f = strtod(s, NULL)) < 1)
		return (1);
	return (f);
}

long long
hb_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Runs "openssl args..." (NULL-terminated); aborts unless it exits 0. */
static void
openssl_cli(const char *arg, ...)
{
	char	*argv[40], *res[2];
	va_list	 ap;
	int	 n = 0, code;

	argv[n++] = "openssl";
	va_start(ap, arg);
	for (; arg != NULL && n < (int)nitems(argv) - 1;
	    arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	va_end(ap);
	argv[n] = NULL;
	/*
	 * Outside a test (test_suite() makes the PKI) check cannot report a
	 * failure, so it goes to stderr too.
	 */
	if ((code = run(argv, res)) != 0) {
		fprintf(stderr, "openssl %s exited %d: %s\n", argv[1], code,
		    res[1]);
		ck_abort_msg("openssl %s exited %d: %s", argv[1], code, res[1]);
	}
	free(res[0]);
	free(res[1]);
}

/*
 * An ECDSA P-256 certificate for cn, signed by pki's CA (its key in
 * cakey): a server's (for the name cn) or a client's.
 */
static void
pki_cert(const struct hb_pki *pki, const char *cakey, const char *cn,
    const char *cert, const char *key, int server)
{
	char	 subj[256], san[256];

	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	snprintf(san, sizeof(san), "subjectAltName=DNS:%s", cn);
	openssl_cli("req", "-x509", "-newkey", "ec", "-pkeyopt", PKI_CURVE,
	    "-noenc", "-days", PKI_DAYS, "-subj", subj, "-keyout", key,
	    "-out", cert, "-CA", pki->ca, "-CAkey", cakey,
	    "-addext", "basicConstraints=critical,CA:FALSE",
	    "-addext", server ? "extendedKeyUsage=serverAuth" :
	    "extendedKeyUsage=clientAuth",
	    "-addext", server ? san : "keyUsage=critical,digitalSignature",
	    NULL);
}

struct hb_pki *
hb_pki_new(const char *name, const char *const cns[])
{
	struct hb_pki	*pki;
	char		 dir[PATH_MAX], cakey[PATH_MAX], subj[256];
	char		 file[32];
	size_t		 i, n;

	hb_init();
	make_tmpdir(dir);
	pki = xmalloc(sizeof(*pki));
	pki->ca = xmalloc(PATH_MAX);
	pki->cert = xmalloc(PATH_MAX);
	pki->key = xmalloc(PATH_MAX);
	path_join(pki->ca, dir, "ca.pem");
	path_join(cakey, dir, "ca.key");
	path_join(pki->cert, dir, "server.pem");
	path_join(pki->key, dir, "server.key");
	snprintf(subj, sizeof(subj), "/CN=%s", name);
	openssl_cli("req", "-x509", "-newkey", "ec", "-pkeyopt", PKI_CURVE,
	    "-noenc", "-days", PKI_DAYS, "-subj", subj, "-keyout", cakey,
	    "-out", pki->ca,
	    "-addext", "basicConstraints=critical,CA:TRUE",
	    "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL);
	pki_cert(pki, cakey, "localhost", pki->cert, pki->key, 1);

	for (n = 0; cns[n] != NULL; n++)
		;
	pki->cns = cns;
	pki->ccert = xmalloc((n + 1) * sizeof(char *));
	pki->ckey = xmalloc((n + 1) * sizeof(char *));
	for (i = 0; i < n; i++) {
		pki->ccert[i] = xmalloc(PATH_MAX);
		pki->ckey[i] = xmalloc(PATH_MAX);
		snprintf(file, sizeof(file), "client%zu.pem", i);
		path_join(pki->ccert[i], dir, file);
		snprintf(file, sizeof(file), "client%zu.key", i);
		path_join(pki->ckey[i], dir, file);
		pki_cert(pki, cakey, cns[i], pki->ccert[i], pki->ckey[i], 0);
	}
	return (pki);
}

void
hb_pki_client(const struct hb_pki *pki, const char *cn, const char **cert,
    const char **key)
{
	size_t	 i;

	for (i = 0; pki->cns[i] != NULL; i++) {
		if (strcmp(pki->cns[i], cn) == 0) {
			*cert = pki->ccert[i];
			*key = pki->ckey[i];
			return;
		}
	}
	ck_abort_msg("no client certificate for CN \"%s\"", cn);
}

struct hbc *
hb_http_send(int port, const char *src, const char *method, const char *path,
    const char *headers, const char *body)
{
	struct hbc	*h;
	char		*req;
	int		 n;

	if (headers == NULL)
		headers = "";
	n = asprintf(&req, "%s %s HTTP/1.0\r\n%s%s", method, path, headers,
	    strcasestr(headers, "Host:") != NULL ? "" :
	    "Host: 127.0.0.1\r\n");
	ck_assert_int_ge(n, 0);
	h = hbc_connect_from(src, port);
	hbc_send(h, req);
	free(req);
	if (body != NULL) {
		n = asprintf(&req, "Content-Length: %zu\r\n\r\n", strlen(body));
		ck_assert_int_ge(n, 0);
		hbc_send(h, req);
		free(req);
		hbc_sendn(h, body, strlen(body));
	} else
		hbc_send(h, "\r\n");
	return (h);
}

void
hb_http_head(struct hbc *h, struct http *r)
{
	const char	*line;
	char		*cr;

	memset(r, 0, sizeof(*r));
	r->clen = -1;
	line = hbc_readline(h, 5000);
	ck_assert_msg(line != NULL, "no status line");
	ck_assert_msg(sscanf(line, "HTTP/1.%*[01] %d ", &r->status) == 1,
	    "bad status line %s", quote(line, strlen(line)));
	for (;;) {
		line = hbc_readline(h, 5000);
		ck_assert_msg(line != NULL, "headers end without a blank line");
		if ((cr = strchr(line, '\r')) != NULL)
			*cr = '\0';
		if (*line == '\0')
			break;
		strlcat(r->head, line, sizeof(r->head));
		strlcat(r->head, "\n", sizeof(r->head));
		if (strncasecmp(line, "Content-Type: ", 14) == 0)
			snprintf(r->ctype, sizeof(r->ctype), "%s", line + 14);
		else if (strncasecmp(line, "Content-Length: ", 16) == 0)
			r->clen = strtol(line + 16, NULL, 10);
	}
}

void
hb_http_body(struct hbc *h, struct http *r)
{
	long long	 deadline = hb_now_ms() + 5000;
	size_t		 n;

	r->body = strdup("");
	ck_assert_ptr_nonnull(r->body);
	for (;;) {
		hbc_consume(h);
		if ((n = h->len) > 0) {
			r->body = realloc(r->body, r->bodylen + n + 1);
			ck_assert_ptr_nonnull(r->body);
			memcpy(r->body + r->bodylen, h->buf, n);
			r->bodylen += n;
			r->body[r->bodylen] = '\0';
			h->taken = n;
		}
		if (h->eof || !hbc_fill(h, deadline))
			break;
	}
	ck_assert_msg(h->eof, "the server did not close after the answer");
}

void
hb_http(int port, const char *method, const char *path, const char *headers,
    const char *body, struct http *r)
{
	struct hbc	*h;

	h = hb_http_send(port, NULL, method, path, headers, body);
	hb_http_head(h, r);
	hb_http_body(h, r);
	hbc_close(h);
}

const char *
hb_http_header(const struct http *r, const char *name)
{
	static char	 value[1024];
	const char	*p;
	size_t		 n = strlen(name);

	for (p = r->head; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1 + strspn(p + n + 1, " ");
			snprintf(value, sizeof(value), "%.*s",
			    (int)strcspn(p, "\n"), p);
			return (value);
		}
	}
	return (NULL);
}

long
hb_tcp_wmem_max(void)
{
	FILE	*f;
	long	 lo, def, max = 4L * 1024 * 1024;

	if ((f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r")) != NULL) {
		if (fscanf(f, "%ld %ld %ld", &lo, &def, &max) != 3)
			max = 4L * 1024 * 1024;
		fclose(f);
	}
	return (max);
}
