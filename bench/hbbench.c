/*
 * hbbench: the load generator of bench/run. It drives heartbeatd, or any
 * peer that answers "PING\n" with a line starting "PONG" or "+PONG", over
 * loopback only, and every mode stops by itself:
 *
 *   rtt      N connections in closed loop, PING -> PONG
 *   hold     N connections heartbeating every I seconds, spread evenly
 *   silence  N connections PING at once and go quiet; how late is each drop
 *   fanout   N named connections, BROADCAST on the admin port
 *   push     N named connections, SENDs pipelined on one admin session
 *   handshake  K TLS handshakes in flight, one after another; server CPU
 *            per handshake
 *   storm    N connections heartbeating while M more connect at once and
 *            greet; how long until all M are in, and the N's PING RTT
 *   churn    N connections heartbeating while R a second more connect,
 *            greet with HELLO and close; the N's PING RTT, and the CPU of
 *            the server's threads other than its main one
 *   route    N named connections, one SEND at a time on the admin port,
 *            each sent once the last is answered: a single SEND's
 *            latency, to a client of another node when -a is another
 *            node's admin port (a fleet, SPEC 14)
 *
 * -P takes several ports, comma separated: the connections are spread
 * over them in turn, as over the nodes of a fleet. Connection i says
 * HELLO hb<i + FIRST> (-o FIRST), so that several hbbench processes can
 * hold distinct names in one fleet.
 * One epoll loop, level-triggered, non-blocking sockets, one recv per
 * event. Times are CLOCK_MONOTONIC; a reply is stamped with the time
 * epoll_wait returned, the earliest moment the generator could know of
 * it, so a busy generator does not add its own backlog to the figures.
 * The last output line is "RESULT mode=... key=value ...", for scripts.
 *
 * With --tls every client connection speaks TLS (OpenSSL, the handshake
 * driven from the same loop); an event then reads until OpenSSL holds
 * nothing more. The client offers TLS 1.3 only, with the one suite
 * TLS_AES_128_GCM_SHA256 and the one group X25519, so every server does the
 * same work; it keeps no session, so every handshake is a full one. The
 * admin session stays plain.
 *
 * With --awake a child spinning at SCHED_IDLE keeps hbbench's CPU from
 * going idle: on the VM of BENCHMARKS.md an idle vCPU takes milliseconds
 * to wake, which a percentile of sub-millisecond replies would measure
 * instead of the server. The child yields to any other task at once and
 * dies with hbbench.
 *
 * Exit status: 0 measured, 1 could not measure, 2 usage, 3 measured but
 * incomplete (connections that failed, or drops that never came).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* sched_setaffinity, CPU_SET */
#endif

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define NS		1000000000ULL
#define MS		1000000ULL
#define US		1000ULL
#define MAX_EVENTS	1024
#define PART_MAX	23		/* bytes kept of a line split by recv */
#define ADMIN_ID	UINT32_MAX
#define STORM_ID	(UINT32_MAX - 1)
#define WATCH_ID	(UINT32_MAX - 2)
#define STORM_CHUNK	16		/* storm: connects a loop turn */
#define STORM_BATCH	4		/* storm: its events a loop turn */
#define CHURN_DRAIN	(1 * NS)	/* churn: cycles in flight at the end */
#define LIVE_EVERY	(10 * MS)	/* silence: the live client's pace */
#define ROUND_GAP	(50 * MS)	/* fanout: quiet time between rounds */
#define WAIT_MAX	(30 * NS)	/* fanout, push: give up on a round */
#define STEP_MAX	(300 * NS)	/* fanout --lockstep: on its first line */
#define PORTS_MAX	16		/* client ports of -P */

#define EXIT_MEASURED	0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_PARTIAL	3

enum mode { M_RTT, M_HOLD, M_SILENCE, M_FANOUT, M_PUSH, M_HANDSHAKE,
	M_STORM, M_CHURN, M_ACKED, M_ROUTE };
enum state { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_GREETING, C_READY,
	C_CLOSED, C_FAILED };
enum kind { L_PONG, L_OK, L_BYE, L_ERR, L_OTHER };

struct conn {
	int		 fd;
	SSL		*ssl;		/* --tls */
	uint8_t		 state;
	uint8_t		 out;		/* waiting for EPOLLOUT */
	uint8_t		 busy;		/* a PING awaits its PONG */
	uint8_t		 plen;		/* bytes in part */
	uint8_t		 silent;	/* silence: went quiet in the burst */
	char		 part[PART_MAX];
	uint32_t	 round;		/* fanout: the last round received */
	uint64_t	 sent;		/* ns, the PING awaiting its PONG;
					   churn: its connect */
	uint64_t	 last_send;	/* ns */
	uint64_t	 pong;		/* ns, the last PONG */
	uint64_t	 end;		/* ns, EOF or BYE */
	uint64_t	 tmo;		/* silence: ns, its own timeout */
};

/* A log-linear histogram of ns: exact below 128, then 64 steps a power. */
#define HIST_N		(128 + 57 * 64)
struct hist {
	uint64_t	 n;
	uint64_t	 max;
	uint64_t	 b[HIST_N];
};

struct admin {
	int		 fd;
	uint32_t	 id;		/* ADMIN_ID or WATCH_ID */
	void		(*line)(const char *, size_t);
	char		*out;		/* push: the pipelined commands */
	size_t		 outlen, outoff;
	char		 part[64];
	size_t		 plen;
	uint64_t	 oks, errs;
	uint64_t	 last_ok;	/* ns */
	long long	 ok_value;	/* the number after the last OK */
};

static struct {
	enum mode		 mode;
	const char		*mode_name;
	struct sockaddr_in	 addr[PORTS_MAX];
	int			 naddr;
	struct sockaddr_in	 admin;
	int			 have_admin;
	int			 conns;
	double			 duration;
	double			 interval;
	double			 timeout;
	double			 warmup;
	double			 patience;
	int			 pid;
	int			 cpu;
	int			 count;
	int			 rounds;	/* fanout: rounds; churn: cycles
						   a second */
	int			 window;
	int			 hello;		/* greet with HELLO: 1, PING: 0 */
	int			 quiet;
	int			 tls;
	int			 awake;		/* --awake */
	int			 lockstep;	/* fanout: --lockstep */
	int			 first;		/* -o: hb<first> names slot 0 */
	int			 kinds;		/* silence: distinct timeouts */
} opt = {
	.conns = 100, .duration = 5, .interval = 5, .timeout = 0,
	.warmup = 1, .patience = 10, .pid = 0, .cpu = -1, .count = 0,
	.rounds = 0, .window = 256, .hello = -1, .kinds = 1
};

static struct conn	*conns;
static int		 nconns;	/* slots used, the live client included */
static int		 epfd = -1;
static uint64_t		 now;		/* when epoll_wait last returned */
static int		 inflight, nready, nfailed, nclosed;
static volatile sig_atomic_t stop;
static struct admin	 adm = { .fd = -1, .id = ADMIN_ID };
static struct admin	 wat = { .fd = -1, .id = WATCH_ID };	/* acked */
static SSL_CTX		*tls_ctx;	/* --tls */
static int		 sepfd = -1;	/* storm, churn: their epoll set */
static int		 storm_first = INT_MAX;	/* its first slot */

/* What the current phase wants done with the lines that arrive. */
static struct {
	int		 loop;		/* rtt: a PONG sends the next PING */
	int		 measuring;	/* record latencies and counts */
	uint64_t	 pongs;
	uint64_t	 other;		/* lines that are not replies */
	uint64_t	 errors;
	uint32_t	 round;		/* fanout: the current round */
	char		 token[32];
	size_t		 toklen;
	uint64_t	 got;		/* fanout: conns that have the token */
	uint64_t	 first_got;	/* ns, the first of them */
	uint64_t	 last_got;	/* ns, the last */
	struct hist	 lat;
	uint64_t	 t0;		/* storm: when it began */
	struct hist	 named;		/* storm: when each was in, from t0;
					   churn: each cycle's connect to OK */
	uint64_t	 turn_max;	/* storm, churn: longest loop turn, ns */
	uint64_t	 hellos;	/* churn: HELLOs sent, naming the next */
	int		 ack;		/* acked: a MSG is answered ACK */
	uint64_t	 msgs;		/* acked: MSGs received */
	uint64_t	 deleted;	/* acked: "acked" events watched */
	struct hist	 sec;		/* churn: this second's PINGs */
} run;

/*
 * hold, storm and churn: connection i of n PINGs at
 * base + (k * n + i + 1) * step.
 */
struct pacer {
	uint64_t	 base, step;	/* ns */
	uint64_t	 slot;		/* the next PING, counted from base */
	uint64_t	 missed;	/* PINGs sent unanswered, measuring */
	int		 n;
};

/*
 * churn: cycle k is due at due0 + k * step, in one of pool slots; and the
 * figures of the window measured.
 */
struct churn {
	uint64_t	 due;		/* ns, the next cycle */
	uint64_t	 step;		/* ns */
	uint64_t	 behind;	/* the most cycles due, no slot free */
	int		 pool;		/* slots from storm_first */
	int		 cursor;	/* where the search for a free one starts */
	uint64_t	 sec_end;	/* ns, when this second ends */
	int64_t		*sec_p99;	/* ns, each whole second's PING p99 */
	int		 nsec;
	int		 cpu_ok;	/* the server's figures were read */
	int		 failed;
	uint64_t	 cycles;	/* completed */
	double		 secs;
	double		 srv_pct;	/* the server's CPU, % of a core */
	double		 writer_ms;	/* CPU of its threads but the main */
	double		 gen_pct;	/* hbbench's own CPU */
};

static void	usage(void) __attribute__((__noreturn__));
static void	fatal(const char *, ...)
		    __attribute__((__noreturn__, __format__(printf, 1, 2)));
static void	fatalx(const char *, ...)
		    __attribute__((__noreturn__, __format__(printf, 1, 2)));
static void	say(const char *, ...) __attribute__((__format__(printf, 1, 2)));
static uint64_t	mono_ns(void);
static double	parse_num(const char *, double, double, const char *);
static void	parse_addr(struct sockaddr_in *, const char *, const char *);
static void	setup(void);
static void	tls_setup(void);
static void	keep_awake(void);
static void	on_signal(int);
static int	proc_cpu(pid_t, uint64_t *);
static int	proc_threads_ns(pid_t, uint64_t *);
static long	proc_rss(pid_t);
static long long listen_drops(void);
static double	self_cpu_s(void);
static void	hist_add(struct hist *, uint64_t);
static uint64_t	hist_pct(const struct hist *, double);
static int	cmp_i64(const void *, const void *);
static int64_t	pct_i64(const int64_t *, size_t, double);
static int	conn_set(const struct conn *);
static int	conn_pending(const struct conn *);
static int	conn_start(struct conn *, int);
static void	conn_open(int);
static void	conn_watch(struct conn *, int);
static void	conn_connected(struct conn *);
static void	conn_handshake(struct conn *);
static void	conn_greet(struct conn *);
static void	conn_ready(struct conn *);
static void	conn_close(struct conn *);
static void	conn_fail(struct conn *);
static void	conn_ended(struct conn *);
static ssize_t	conn_send(struct conn *, const char *, size_t);
static ssize_t	conn_recv(struct conn *, char *, size_t);
static ssize_t	tls_errno(struct conn *, int);
static int	conn_write(struct conn *, const char *, size_t);
static int	conn_ping(struct conn *);
static void	conn_event(struct conn *, uint32_t);
static void	conn_read(struct conn *);
static void	conn_feed(struct conn *, const char *, size_t);
static void	conn_line(struct conn *, const char *, size_t);
static enum kind classify(const char *, size_t);
static void	poll_once(uint64_t);
static void	poll_storm(void);
static void	connect_all(int, uint64_t);
static void	fail_pending(int, int);
static void	ping_idle(int, uint64_t);
static void	pacer_start(struct pacer *, int, double);
static uint64_t	pace(struct pacer *);
static void	paced(struct pacer *, uint64_t);
static void	settle(uint64_t);
static void	connect_named(void);
static void	admin_open(struct admin *);
static void	admin_send(const char *, size_t);
static void	admin_flush(struct admin *);
static void	admin_event(struct admin *, uint32_t);
static void	admin_line(const char *, size_t);
static void	watch_line(const char *, size_t);
static void	conn_ack(struct conn *, const char *, size_t);
static void	close_all(void);
static const char *fig(double, int, const char *);
static void	drain(uint64_t);
static int	num_opt(int, const char *);
static int	run_rtt(void);
static int	run_hold(void);
static int	run_silence(void);
static int	silence_start(struct conn *, int, uint64_t);
static int	run_fanout(void);
static void	fanout_token(int);
static int	fanout_receive(void);
static int	await_go(void);
static int	run_push(void);
static int	run_acked(void);
static void	acked_wait(const uint64_t *, uint64_t, uint64_t);
static int	run_handshake(void);
static int	run_storm(void);
static void	storm(struct pacer *);
static void	side_set(int);
static int	run_churn(void);
static int	run_route(void);
static int	ready_slots(int **);
static void	parse_ports(const char *, const char *);
static void	churn_report(struct churn *, const struct pacer *);
static void	churn(struct pacer *, struct churn *, uint64_t);
static int	churn_start(struct churn *);
static void	churn_second(struct churn *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: hbbench rtt     -c N -d SECONDS [-w WARMUP] [-p PID]\n"
	    "       hbbench hold    -c N -i INTERVAL -d SECONDS -p PID\n"
	    "       hbbench silence -c N -t TIMEOUT [-k KINDS] [-p PID]\n"
	    "       hbbench fanout  -c N -a ADMINPORT [-r ROUNDS] [-p PID]\n"
	    "       hbbench fanout  --lockstep -c N [-a ADMINPORT] "
	    "[-r ROUNDS] [-p PID]\n"
	    "       hbbench push    -c N -n COUNT -a ADMINPORT [-p PID]\n"
	    "       hbbench acked   -c N -n COUNT -a ADMINPORT [-r PROBES] "
	    "[-p PID]\n"
	    "       hbbench handshake --tls -c K -d SECONDS [-w WARMUP] "
	    "[-p PID]\n"
	    "       hbbench storm   -c N -n STORM -i INTERVAL [-w WARMUP] "
	    "[-p PID]\n"
	    "       hbbench churn   -c N -r RATE -d SECONDS [-i INTERVAL] "
	    "[-n NAMES]\n"
	    "                       [-w WARMUP] [-p PID]\n"
	    "       hbbench route   -c N -d SECONDS -a ADMINPORT [-w WARMUP] "
	    "[-p PID]\n"
	    "common: [-h 127.0.0.1] [-P PORT[,PORT...]] [-C CPU] "
	    "[-W INFLIGHT] [-o FIRST]\n"
	    "        [-T PATIENCE] [-G | -H] [-q] [--tls] [--awake]\n"
	    "  -h HOST    a loopback IPv4 address (default 127.0.0.1)\n"
	    "  -P PORTS   client ports, connections spread over them "
	    "(default 7000)\n"
	    "  -a PORT    admin port (fanout, push, route)\n"
	    "  -p PID     the server, for CPU time (/proc/PID/stat) and RSS\n"
	    "  -C CPU     pin hbbench to this CPU\n"
	    "  -r N       fanout: rounds (10); churn: cycles a second (1000);\n"
	    "             acked: single pushes timed, one at a time (1000)\n"
	    "  -n N       churn: names churn-<k> cycle over (default 5000)\n"
	    "  -o FIRST   the first connection is hb<FIRST> (default 0)\n"
	    "  -W N       connects in flight at once (default 256)\n"
	    "  -T SEC     give up connecting after SEC without progress "
	    "(default 10)\n"
	    "  -G         greet with PING (default but for fanout and push)\n"
	    "  -H         greet with HELLO hb<i> (default for fanout, push,\n"
	    "             route;\n"
	    "             storm: HELLO storm-<i> from the storm, its default;\n"
	    "             churn always greets with HELLO)\n"
	    "  -q         only the RESULT line\n"
	    "  --tls      TLS 1.3 client connections (admin stays plain)\n"
	    "  --awake    keep hbbench's CPU from idling, with a child "
	    "spinning at\n"
	    "             SCHED_IDLE\n"
	    "  --lockstep fanout over several hbbench processes: READY once "
	    "connected,\n"
	    "             a ROUND line of monotonic ns stamps a round; with -a "
	    "each\n"
	    "             BROADCAST waits for a line on stdin, without -a only "
	    "receive\n");
	exit(EXIT_USAGE);
}

static void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	fprintf(stderr, "hbbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	exit(EXIT_FAILED);
}

static void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "hbbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EXIT_FAILED);
}

/* Progress and human-readable figures, on stdout unless -q. */
static void
say(const char *fmt, ...)
{
	va_list	 ap;

	if (opt.quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static uint64_t
mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec);
}

static double
parse_num(const char *s, double lo, double hi, const char *what)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "hbbench: %s: bad value \"%s\" (%g-%g)\n",
		    what, s, lo, hi);
		exit(EXIT_USAGE);
	}
	return (v);
}

/* Only loopback: the benchmark must never load somebody else's host. */
static void
parse_addr(struct sockaddr_in *sin, const char *host, const char *port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    (ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "hbbench: %s: not a loopback IPv4 address\n",
		    host);
		exit(EXIT_USAGE);
	}
	sin->sin_port = htons((uint16_t)parse_num(port, 1, 65535, "port"));
}

static void
on_signal(int sig)
{
	stop = 1;
}

/*
 * Raises the fd limit to the hard one, pins the CPU, makes the epoll and
 * a slot for every connection: one more for the live client of silence,
 * opt.count more for the storm, opt.window for churn's cycles in flight.
 */
static void
setup(void)
{
	struct rlimit	 rl;
	cpu_set_t	 set;
	int		 i, slots, need;

	slots = opt.conns + 1 + (opt.mode == M_STORM ? opt.count :
	    opt.mode == M_CHURN ? opt.window : 0);
	need = slots + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit");
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)need > rl.rlim_cur)
		fatalx("%d connections need %d open files, the hard limit is "
		    "%llu", slots - 1, need, (unsigned long long)rl.rlim_cur);
	if (opt.cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == -1)
			fatal("sched_setaffinity %d", opt.cpu);
	}
	if (opt.awake)
		keep_awake();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if ((conns = calloc(slots, sizeof(*conns))) == NULL)
		fatal("calloc");
	for (i = 0; i < slots; i++)
		conns[i].fd = -1;
	if (opt.tls)
		tls_setup();
}

/*
 * Forks the spinner of --awake, on hbbench's CPUs (it inherits them). It
 * asks for SIGKILL when hbbench ends, and checks that hbbench did not end
 * before it asked.
 */
static void
keep_awake(void)
{
	struct sched_param	 sp;
	pid_t			 parent = getpid();

	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		return;
	}
	memset(&sp, 0, sizeof(sp));
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent ||
	    sched_setscheduler(0, SCHED_IDLE, &sp) == -1)
		_exit(EXIT_FAILED);
	for (;;)
		;
}

/*
 * The client side of --tls. TLS 1.3 with one suite and one group, so that
 * every server negotiates the same; no verification (loopback, a
 * throwaway certificate) and no session cache, so that no handshake is
 * ever resumed; read-ahead, so that one read(2) takes every record there
 * is, and buffers released while idle, so that 19,000 held connections
 * stay small here too.
 */
static void
tls_setup(void)
{
	if ((tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(tls_ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(tls_ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
	    SSL_CTX_set1_groups_list(tls_ctx, "X25519") != 1) {
		ERR_print_errors_fp(stderr);
		fatalx("cannot set up the TLS client");
	}
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(tls_ctx, 1);
}

/* utime + stime of the whole process, in clock ticks. */
static int
proc_cpu(pid_t pid, uint64_t *ticks)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st;
	FILE			*f;
	size_t			 n;
	int			 i;

	if (pid <= 0)
		return (-1);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name may hold spaces; fields count from the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return (-1);
	for (i = 0; i < 12 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu %llu", &ut, &st) != 2)
		return (-1);
	*ticks = ut + st;
	return (0);
}

/*
 * The CPU time of the process's threads but its main one (whose id is
 * the pid), in ns: the server's helpers, such as a writer thread, apart
 * from its event loop. It comes from schedstat, the scheduler's own sum:
 * utime and stime are charged a whole tick to whoever is on the CPU when
 * it comes, and a thread that runs a millisecond a second is seldom
 * caught. A thread that ended since an earlier call no longer counts, so
 * the difference of two calls can fall short, never overstate.
 */
static int
proc_threads_ns(pid_t pid, uint64_t *ns)
{
	char			 path[64];
	struct dirent		*de;
	unsigned long long	 t;
	DIR			*d;
	FILE			*f;
	long			 tid;

	if (pid <= 0)
		return (-1);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (-1);
	*ns = 0;
	while ((de = readdir(d)) != NULL) {
		if ((tid = strtol(de->d_name, NULL, 10)) <= 0 || tid == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/schedstat",
		    (int)pid, tid);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* it ended */
		if (fscanf(f, "%llu", &t) == 1)
			*ns += t;
		fclose(f);
	}
	closedir(d);
	return (0);
}

/* VmRSS of pid in KiB, or -1. */
static long
proc_rss(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kib = -1;

	if (pid <= 0)
		return (-1);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return (kib);
}

/*
 * The kernel's count of connections dropped at a full listen queue
 * (TcpExt ListenDrops, all sockets), or -1: a storm's dropped SYNs come
 * back a second later, which its figures should explain.
 */
static long long
listen_drops(void)
{
	static char	 names[8192], vals[8192];
	char		*n, *v, *sn, *sv;
	long long	 drops = -1;
	FILE		*f;

	if ((f = fopen("/proc/net/netstat", "r")) == NULL)
		return (-1);
	while (fgets(names, sizeof(names), f) != NULL &&
	    fgets(vals, sizeof(vals), f) != NULL) {
		if (strncmp(names, "TcpExt:", 7) != 0)
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		for (; n != NULL && v != NULL; n = strtok_r(NULL, " \n", &sn),
		    v = strtok_r(NULL, " \n", &sv)) {
			if (strcmp(n, "ListenDrops") == 0)
				drops = strtoll(v, NULL, 10);
		}
		break;
	}
	fclose(f);
	return (drops);
}

/* The generator's own CPU seconds, to show when it is the bottleneck. */
static double
self_cpu_s(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

static void
hist_add(struct hist *h, uint64_t v)
{
	int	 e, i;

	if (v < 128)
		i = (int)v;
	else {
		e = 63 - __builtin_clzll(v);
		i = 128 + (e - 7) * 64 + (int)((v >> (e - 6)) - 64);
	}
	h->b[i]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

/* The q-quantile, as the middle of its bucket (1.6% wide at most). */
static uint64_t
hist_pct(const struct hist *h, double q)
{
	uint64_t	 want, seen = 0, v;
	int		 i, e, sub;

	if (h->n == 0)
		return (0);
	want = (uint64_t)(q * h->n + 0.999999);
	if (want < 1)
		want = 1;
	for (i = 0; i < HIST_N; i++) {
		if ((seen += h->b[i]) >= want)
			break;
	}
	if (i < 128)
		return ((uint64_t)i);
	e = (i - 128) / 64 + 7;
	sub = (i - 128) % 64;
	v = ((uint64_t)(64 + sub) << (e - 6)) + ((1ULL << (e - 6)) >> 1);
	return (v > h->max ? h->max : v);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The q-quantile of sorted v (nearest rank). */
static int64_t
pct_i64(const int64_t *v, size_t n, double q)
{
	size_t	 i;

	if (n == 0)
		return (0);
	i = (size_t)(q * n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return (v[i - 1]);
}

/* The epoll set of c: the storm's own, or the main one. */
static int
conn_set(const struct conn *c)
{
	return (c - conns >= storm_first ? sepfd : epfd);
}

/* Whether c is on its way to ready: connecting, in handshake, greeting. */
static int
conn_pending(const struct conn *c)
{
	return (c->state == C_CONNECTING || c->state == C_HANDSHAKE ||
	    c->state == C_GREETING);
}

/* Starts a non-blocking connect; id is the slot, the epoll tag. */
static int
conn_start(struct conn *c, int id)
{
	struct epoll_event	 ev;
	int			 one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		c->state = C_FAILED;
		return (-1);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&opt.addr[id % opt.naddr],
	    sizeof(opt.addr[0])) == -1 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		c->state = C_FAILED;
		return (-1);
	}
	c->state = C_CONNECTING;
	c->out = 1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.u32 = (uint32_t)id;
	if (epoll_ctl(conn_set(c), EPOLL_CTL_ADD, c->fd, &ev) == -1)
		fatal("epoll_ctl add");
	return (0);
}

/* Starts slot id's connect, counted in flight or failed. */
static void
conn_open(int id)
{
	if (conn_start(&conns[id], id) == 0)
		inflight++;
	else if (errno == EMFILE || errno == ENFILE)
		fatal("socket");
	else
		nfailed++;
}

/* Waits for EPOLLOUT (out) or for input, with no syscall if it already is. */
static void
conn_watch(struct conn *c, int out)
{
	struct epoll_event	 ev;

	if (c->out == out)
		return;
	c->out = out;
	memset(&ev, 0, sizeof(ev));
	ev.events = out ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = (uint32_t)(c - conns);
	if (epoll_ctl(conn_set(c), EPOLL_CTL_MOD, c->fd, &ev) == -1)
		fatal("epoll_ctl mod");
}

/* TCP is connected: the TLS handshake, if any, then the greeting. */
static void
conn_connected(struct conn *c)
{
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		conn_fail(c);
		return;
	}
	if (tls_ctx == NULL) {
		conn_watch(c, 0);
		conn_greet(c);
		return;
	}
	if ((c->ssl = SSL_new(tls_ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		fatalx("SSL_new failed");
	SSL_set_connect_state(c->ssl);
	c->state = C_HANDSHAKE;
	conn_handshake(c);
}

/* One step of the TLS handshake; the greeting once it is done. */
static void
conn_handshake(struct conn *c)
{
	int	 r;

	if ((r = SSL_connect(c->ssl)) == 1) {
		conn_watch(c, 0);
		conn_greet(c);
		return;
	}
	r = SSL_get_error(c->ssl, r);
	if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
		conn_watch(c, r == SSL_ERROR_WANT_WRITE);
	else {
		ERR_clear_error();
		conn_fail(c);
	}
}

/*
 * Greets the server with HELLO hb<i> (storm-<i> for the storm's,
 * churn-<k> for churn's, k cycling over opt.count names, so that names
 * come back as real devices' do) or with PING; its reply makes c ready.
 */
static void
conn_greet(struct conn *c)
{
	char	 hello[32];
	int	 id = (int)(c - conns), n;

	c->state = C_GREETING;
	if (opt.hello <= 0) {
		if (conn_ping(c) == -1)
			conn_fail(c);
		return;
	}
	if (id >= storm_first && opt.mode == M_CHURN)
		n = snprintf(hello, sizeof(hello), "HELLO churn-%d\n",
		    (int)(run.hellos++ % opt.count));
	else if (id >= storm_first)
		n = snprintf(hello, sizeof(hello), "HELLO storm-%d\n",
		    id - storm_first);
	else
		n = snprintf(hello, sizeof(hello), "HELLO hb%d\n",
		    id + opt.first);
	c->last_send = mono_ns();
	if (conn_write(c, hello, n) == -1)
		conn_fail(c);
}

/*
 * The server answered c's greeting. A churn cycle is then complete: it is
 * timed from its connect and closed at once, its slot free again.
 */
static void
conn_ready(struct conn *c)
{
	c->state = C_READY;
	inflight--;
	nready++;
	if (c - conns < storm_first)
		return;
	if (opt.mode != M_CHURN) {
		hist_add(&run.named, now - run.t0);
		return;
	}
	hist_add(&run.named, now - c->sent);
	conn_close(c);
	c->state = C_CLOSED;
}

/* Closes c's socket and frees its TLS, if it has them. */
static void
conn_close(struct conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
}

/* Connecting or greeting went wrong: the slot is given up at once. */
static void
conn_fail(struct conn *c)
{
	if (conn_pending(c))
		inflight--;
	conn_close(c);
	c->state = C_FAILED;
	nfailed++;
}

/*
 * The server closed a ready connection (EOF, reset or BYE). The socket is
 * only taken out of the epoll set: closing it now would put our close on
 * the clock of the drops still to come. close_all() closes it.
 */
static void
conn_ended(struct conn *c)
{
	if (conn_pending(c)) {
		conn_fail(c);
		return;
	}
	if (c->state != C_READY)
		return;
	epoll_ctl(conn_set(c), EPOLL_CTL_DEL, c->fd, NULL);
	c->state = C_CLOSED;
	c->end = now;
	nclosed++;
}

/* send(2), or SSL_write() in its terms. */
static ssize_t
conn_send(struct conn *c, const char *buf, size_t len)
{
	int	 n;

	if (c->ssl == NULL)
		return (send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT));
	if ((n = SSL_write(c->ssl, buf, (int)len)) > 0)
		return (n);
	return (tls_errno(c, n));
}

/* recv(2), or SSL_read() in its terms. */
static ssize_t
conn_recv(struct conn *c, char *buf, size_t len)
{
	int	 n;

	if (c->ssl == NULL)
		return (recv(c->fd, buf, len, 0));
	if ((n = SSL_read(c->ssl, buf, (int)len)) > 0)
		return (n);
	return (tls_errno(c, n));
}

/*
 * A failed SSL_read() or SSL_write() as recv(2) would say it: 0 for the
 * peer's close_notify, -1 with EAGAIN for "not now", else -1 with
 * ECONNRESET. The error queue is emptied, or it would taint the next call
 * on another connection.
 */
static ssize_t
tls_errno(struct conn *c, int n)
{
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	default:
		ERR_clear_error();
		errno = ECONNRESET;
		return (-1);
	}
}

/*
 * Writes a short line whole. Returns 0, or -1 when the peer is gone. Over
 * TLS a write the socket does not take is never retried with other bytes
 * in practice: the figures would show the errors first.
 */
static int
conn_write(struct conn *c, const char *buf, size_t len)
{
	ssize_t	 n;

	n = conn_send(c, buf, len);
	if (n == (ssize_t)len)
		return (0);
	if (n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
		/* The server stopped reading; count it, never block. */
		run.errors++;
		return (0);
	}
	return (-1);
}

/* Sends a PING stamped with its send time. Returns -1 if c is gone. */
static int
conn_ping(struct conn *c)
{
	c->sent = c->last_send = mono_ns();
	c->busy = 1;
	if (conn_write(c, "PING\n", 5) == -1) {
		c->busy = 0;
		return (-1);
	}
	return (0);
}

static void
conn_event(struct conn *c, uint32_t events)
{
	switch (c->state) {
	case C_CONNECTING:
		conn_connected(c);
		break;
	case C_HANDSHAKE:
		conn_handshake(c);
		break;
	case C_GREETING:
	case C_READY:
		conn_read(c);
		break;
	default:
		break;		/* closed earlier in this batch */
	}
}

/*
 * One recv, or over TLS SSL_read()s until OpenSSL holds no more: no epoll
 * event would tell of what it holds.
 */
static void
conn_read(struct conn *c)
{
	static char	 buf[65536];
	ssize_t		 n;

	do {
		if ((n = conn_recv(c, buf, sizeof(buf))) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				conn_ended(c);
			return;
		}
		if (n == 0) {
			conn_ended(c);
			return;
		}
		conn_feed(c, buf, n);
	} while ((c->state == C_READY || c->state == C_GREETING) &&
	    c->ssl != NULL && SSL_has_pending(c->ssl));
}

/* Complete lines go to conn_line(), a split one waits in c->part. */
static void
conn_feed(struct conn *c, const char *buf, size_t n)
{
	const char	*p, *end, *nl;
	size_t		 len, room;

	for (p = buf, end = buf + n; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		len = (nl != NULL ? nl : end) - p;
		if (c->plen > 0 || nl == NULL) {
			room = sizeof(c->part) - c->plen;
			if (len > room)
				len = room;
			memcpy(c->part + c->plen, p, len);
			c->plen += len;
			if (nl == NULL)
				break;
			len = c->plen;
			c->plen = 0;
			conn_line(c, c->part, len);
		} else
			conn_line(c, p, len);
		if (c->state != C_READY && c->state != C_GREETING)
			break;
	}
}

static enum kind
classify(const char *line, size_t len)
{
	if (len >= 4 && memcmp(line, "PONG", 4) == 0)
		return (L_PONG);
	if (len >= 5 && memcmp(line, "+PONG", 5) == 0)
		return (L_PONG);
	if (len >= 2 && line[0] == 'O' && line[1] == 'K' &&
	    (len == 2 || line[2] == ' ' || line[2] == '\r'))
		return (L_OK);
	if (len >= 3 && memcmp(line, "BYE", 3) == 0)
		return (L_BYE);
	if ((len >= 3 && memcmp(line, "ERR", 3) == 0) ||
	    (len >= 1 && line[0] == '-'))
		return (L_ERR);
	return (L_OTHER);
}

static void
conn_line(struct conn *c, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	switch (classify(line, len)) {
	case L_PONG:
		c->pong = now;
		if (c->busy) {
			c->busy = 0;
			if (run.measuring && c->state == C_READY) {
				hist_add(&run.lat, now - c->sent);
				hist_add(&run.sec, now - c->sent);
				run.pongs++;
			}
		}
		if (c->state == C_GREETING)
			conn_ready(c);
		else if (run.loop && conn_ping(c) == -1)
			conn_ended(c);
		break;
	case L_OK:
		if (c->state == C_GREETING)
			conn_ready(c);
		break;
	case L_BYE:
		conn_ended(c);
		break;
	case L_ERR:
		if (c->state == C_GREETING)
			conn_fail(c);
		else
			run.errors++;
		break;
	case L_OTHER:
		run.other++;
		if (run.ack && len > 4 && memcmp(line, "MSG ", 4) == 0)
			conn_ack(c, line + 4, len - 4);
		if (run.toklen > 0 && c->round != run.round &&
		    len == run.toklen && memcmp(line, run.token, len) == 0) {
			c->round = run.round;
			if (run.got++ == 0)
				run.first_got = now;
			run.last_got = now;
		}
		break;
	}
}

/* One epoll_wait of at most wait ns, and the events it returned. */
static void
poll_once(uint64_t wait)
{
	struct epoll_event	 ev[MAX_EVENTS];
	int			 i, n, ms;

	ms = (int)((wait + MS - 1) / MS);
	if ((n = epoll_wait(epfd, ev, MAX_EVENTS, ms)) == -1) {
		if (errno != EINTR)
			fatal("epoll_wait");
		n = 0;
	}
	now = mono_ns();
	for (i = 0; i < n; i++) {
		if (ev[i].data.u32 == ADMIN_ID)
			admin_event(&adm, ev[i].events);
		else if (ev[i].data.u32 == WATCH_ID)
			admin_event(&wat, ev[i].events);
		else if (ev[i].data.u32 == STORM_ID)
			poll_storm();
		else
			conn_event(&conns[ev[i].data.u32], ev[i].events);
	}
}

/*
 * A few of the storm's events, whose epoll set is one event of the main
 * one: each may be a costly handshake step, and the steady clients'
 * replies must not wait behind thousands of them. Those are stamped when
 * the main epoll_wait returned, so this batch is the most that a storm
 * adds to their RTT.
 */
static void
poll_storm(void)
{
	struct epoll_event	 ev[STORM_BATCH];
	int			 i, n;

	if ((n = epoll_wait(sepfd, ev, STORM_BATCH, 0)) == -1) {
		if (errno != EINTR)
			fatal("epoll_wait storm");
		return;
	}
	for (i = 0; i < n; i++)
		conn_event(&conns[ev[i].data.u32], ev[i].events);
}

/*
 * Opens n connections, opt.window in flight at a time, each greeted and
 * answered (so the server has accepted it) before it counts as ready.
 * Gives up on the rest after opt.patience seconds without progress. With
 * ka, a ready connection idle that long is pinged, so that a slow
 * connect phase does not time the first ones out.
 */
static void
connect_all(int n, uint64_t ka)
{
	uint64_t	 start, last, swept, patience = opt.patience * NS;
	int		 done, next = 0;

	start = last = swept = now = mono_ns();
	nconns = n;
	while (nready + nfailed < n && !stop) {
		while (inflight < opt.window && next < n)
			conn_open(next++);
		done = nready + nfailed;
		poll_once(50 * MS);
		if (nready + nfailed != done)
			last = now;
		else if (now - last > patience)
			break;
		if (ka > 0 && now - swept >= 50 * MS) {
			ping_idle(next, ka);
			swept = now;
		}
	}
	fail_pending(0, n);
	inflight = 0;
	say("connected %d of %d in %.2f s (%d failed)\n", nready, n,
	    (now - start) / 1e9, nfailed);
}

/* Gives up the slots from..to-1 that are not ready yet. */
static void
fail_pending(int from, int to)
{
	int	 i;

	for (i = from; i < to; i++) {
		if (conn_pending(&conns[i]) || conns[i].state == C_IDLE)
			conn_fail(&conns[i]);
	}
}

/*
 * Pings the ready connections among the first n that await no PONG and
 * sent nothing for idle ns.
 */
static void
ping_idle(int n, uint64_t idle)
{
	int	 i;

	for (i = 0; i < n; i++) {
		if (conns[i].state == C_READY && !conns[i].busy &&
		    now - conns[i].last_send >= idle &&
		    conn_ping(&conns[i]) == -1)
			conn_ended(&conns[i]);
	}
}

/* Spreads the first n connections' PINGs evenly over every interval s. */
static void
pacer_start(struct pacer *p, int n, double interval)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->step = (uint64_t)(interval * NS) / n;
	p->base = now = mono_ns();
}

/* Sends the PINGs due by now; returns when the next one is due. */
static uint64_t
pace(struct pacer *p)
{
	struct conn	*c;
	uint64_t	 due;

	while ((due = p->base + (p->slot + 1) * p->step) <= now) {
		c = &conns[p->slot++ % p->n];
		if (c->state != C_READY)
			continue;
		if (c->busy && run.measuring)
			p->missed++;
		if (conn_ping(c) == -1)
			conn_ended(c);
	}
	return (due);
}

/* Runs the loop with p's PINGs until the time until, or until stopped. */
static void
paced(struct pacer *p, uint64_t until)
{
	uint64_t	 due;

	while (!stop && (now = mono_ns()) < until) {
		if ((due = pace(p)) > until)
			due = until;
		poll_once(due - now < 10 * MS ? due - now : 10 * MS);
	}
}

/* Runs the loop for d ns, until stopped. */
static void
settle(uint64_t d)
{
	uint64_t	 end = mono_ns() + d;

	while (!stop && (now = mono_ns()) < end)
		poll_once(end - now < 10 * MS ? end - now : 10 * MS);
}

/*
 * fanout and push: named clients (unless -G), and the admin session; none
 * for a fanout --lockstep without -a, which only receives.
 */
static void
connect_named(void)
{
	if (opt.hello < 0)
		opt.hello = 1;
	connect_all(opt.conns, 2 * NS);
	if (nready == 0)
		fatalx("no connection could be made");
	if (opt.lockstep && !opt.have_admin)
		return;
	adm.line = admin_line;
	admin_open(&adm);
}

/* A blocking connect to the admin port, then non-blocking in the set. */
static void
admin_open(struct admin *a)
{
	struct epoll_event	 ev;
	int			 one = 1;

	if (!opt.have_admin)
		fatalx("%s needs the admin port (-a)", opt.mode_name);
	if ((a->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(a->fd, (struct sockaddr *)&opt.admin,
	    sizeof(opt.admin)) == -1)
		fatal("admin connect");
	if (fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) | O_NONBLOCK) == -1)
		fatal("fcntl");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = a->id;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, a->fd, &ev) == -1)
		fatal("epoll_ctl admin");
}

/* Sends buf, which must live until written, on the admin session. */
static void
admin_send(const char *buf, size_t len)
{
	adm.out = (char *)buf;
	adm.outlen = len;
	adm.outoff = 0;
	admin_flush(&adm);
}

/* Writes what the socket takes; waits for EPOLLOUT for the rest. */
static void
admin_flush(struct admin *a)
{
	struct epoll_event	 ev;
	ssize_t			 n;

	while (a->outoff < a->outlen) {
		n = send(a->fd, a->out + a->outoff, a->outlen - a->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			fatal("admin send");
		if (n == -1)
			break;
		a->outoff += n;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (a->outoff < a->outlen ? EPOLLOUT : 0);
	ev.data.u32 = a->id;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, a->fd, &ev) == -1)
		fatal("epoll_ctl admin");
}

static void
admin_event(struct admin *a, uint32_t events)
{
	static char	 buf[65536];
	char		*p, *end, *nl;
	ssize_t		 n;
	size_t		 len;

	if (events & EPOLLOUT)
		admin_flush(a);
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if ((n = recv(a->fd, buf, sizeof(buf), 0)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		fatal("admin recv");
	}
	if (n == 0)
		fatalx("the server closed the admin session");
	for (p = buf, end = buf + n; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		len = (nl != NULL ? nl : end) - p;
		if (a->plen > 0 || nl == NULL) {
			if (len > sizeof(a->part) - 1 - a->plen)
				len = sizeof(a->part) - 1 - a->plen;
			memcpy(a->part + a->plen, p, len);
			a->plen += len;
			if (nl == NULL)
				break;
			a->part[a->plen] = '\0';
			a->line(a->part, a->plen);
			a->plen = 0;
		} else
			a->line(p, len);
	}
}

static void
admin_line(const char *line, size_t len)
{
	char	 num[24];
	size_t	 n;

	switch (classify(line, len)) {
	case L_OK:
		adm.oks++;
		adm.last_ok = now;
		n = len > 3 ? len - 3 : 0;
		if (n >= sizeof(num))
			n = sizeof(num) - 1;
		memcpy(num, line + 3, n);
		num[n] = '\0';
		adm.ok_value = strtoll(num, NULL, 10);
		break;
	case L_ERR:
		if (adm.errs++ == 0)
			fprintf(stderr, "hbbench: admin: %.*s\n", (int)len, line);
		break;
	default:
		break;
	}
}

static void
close_all(void)
{
	int	 i;

	for (i = 0; i < nconns; i++)
		conn_close(&conns[i]);
	if (adm.fd != -1)
		close(adm.fd);
	if (wat.fd != -1)
		close(wat.fd);
}

/* Formats a server figure, or "NA" when there is no -p. */
static const char *
fig(double v, int ok, const char *fmt)
{
	static char	 bufs[8][32];
	static int	 i;
	char		*b = bufs[i++ % 8];

	if (!ok)
		return ("NA");
	snprintf(b, sizeof(bufs[0]), fmt, v);
	return (b);
}

static int
run_rtt(void)
{
	uint64_t	 c0 = 0, c1 = 0, t0, t1;
	double		 g0, g1, secs, tick = sysconf(_SC_CLK_TCK), cpu_s;
	int		 cpu_ok;

	connect_all(opt.conns, 2 * NS);
	if (nready == 0)
		fatalx("no connection could be made");
	run.loop = 1;
	ping_idle(nconns, 0);
	settle(opt.warmup * NS);
	cpu_ok = proc_cpu(opt.pid, &c0) == 0;
	g0 = self_cpu_s();
	t0 = mono_ns();
	run.measuring = 1;
	settle(opt.duration * NS);
	run.measuring = 0;
	t1 = mono_ns();
	cpu_ok = cpu_ok && proc_cpu(opt.pid, &c1) == 0;
	g1 = self_cpu_s();
	run.loop = 0;
	secs = (t1 - t0) / 1e9;
	if (run.pongs == 0)
		fatalx("no PONG in %.1f s", secs);
	cpu_s = (c1 - c0) / tick;
	say("rtt: %d connections, %.2f s: %.0f PONG/s, latency p50 %.1f us "
	    "p99 %.1f us max %.1f us\n", nready - nclosed, secs,
	    run.pongs / secs, hist_pct(&run.lat, 0.5) / 1e3,
	    hist_pct(&run.lat, 0.99) / 1e3, run.lat.max / 1e3);
	say("rtt: server CPU %s us/PONG (%s%% of a core), hbbench %.0f%%\n",
	    fig(cpu_s * 1e6 / run.pongs, cpu_ok, "%.3f"),
	    fig(cpu_s / secs * 100, cpu_ok, "%.1f"), (g1 - g0) / secs * 100);
	printf("RESULT mode=rtt conns=%d ready=%d closed=%d pongs=%llu "
	    "secs=%.3f pong_per_s=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f "
	    "cpu_us_per_pong=%s srv_cpu_pct=%s gen_cpu_pct=%.1f\n",
	    opt.conns, nready, nclosed, (unsigned long long)run.pongs, secs,
	    run.pongs / secs, hist_pct(&run.lat, 0.5) / 1e3,
	    hist_pct(&run.lat, 0.99) / 1e3, run.lat.max / 1e3,
	    fig(cpu_s * 1e6 / run.pongs, cpu_ok, "%.3f"),
	    fig(cpu_s / secs * 100, cpu_ok, "%.1f"), (g1 - g0) / secs * 100);
	return (nready < opt.conns || nclosed > 0 ? EXIT_PARTIAL :
	    EXIT_MEASURED);
}

/*
 * Connects, takes the server's RSS, pings every connection once, then
 * gives connection i the slot (i + 1) * I / N in every interval I. The
 * first interval is a warm-up; CPU is measured over the next -d seconds.
 */
static int
run_hold(void)
{
	struct pacer	 p;
	uint64_t	 c0 = 0, c1 = 0, t0, t1, interval = opt.interval * NS;
	double		 tick = sysconf(_SC_CLK_TCK), secs, cpu_pct, kib;
	double		 g0, g1;
	long		 rss0, rss1, rss2;
	int		 n = opt.conns, held;

	if ((rss0 = proc_rss(opt.pid)) == -1)
		fatalx("hold needs -p PID of a running server");
	connect_all(n, interval / 2);
	if (nready == 0)
		fatalx("no connection could be made");
	settle(100 * MS);
	rss1 = proc_rss(opt.pid);
	ping_idle(n, 0);
	pacer_start(&p, n, opt.interval);
	paced(&p, p.base + interval);
	if (proc_cpu(opt.pid, &c0) == -1)
		fatalx("server %d is gone", (int)opt.pid);
	t0 = now;
	g0 = self_cpu_s();
	run.measuring = 1;
	paced(&p, t0 + (uint64_t)(opt.duration * NS));
	t1 = mono_ns();
	if (proc_cpu(opt.pid, &c1) == -1 || !run.measuring)
		fatalx("server %d is gone", (int)opt.pid);
	rss2 = proc_rss(opt.pid);
	g1 = self_cpu_s();
	secs = (t1 - t0) / 1e9;
	cpu_pct = (c1 - c0) / tick / secs * 100;
	held = nready - nclosed;
	kib = (double)(rss1 - rss0) / nready;
	say("hold: %d of %d held, heartbeat every %.1f s, %.1f s measured\n",
	    held, n, opt.interval, secs);
	say("hold: server RSS idle %ld KiB, connected %ld KiB, at end %ld KiB:"
	    " %.2f KiB/client (%.2f at end)\n", rss0, rss1, rss2, kib,
	    (double)(rss2 - rss0) / (held > 0 ? held : 1));
	say("hold: server CPU %.2f%% of a core, %.0f PONG/s, p99 %.2f ms, "
	    "%llu late\n", cpu_pct, run.pongs / secs,
	    hist_pct(&run.lat, 0.99) / 1e6, (unsigned long long)p.missed);
	printf("RESULT mode=hold conns=%d ready=%d held=%d interval=%.3f "
	    "secs=%.3f rss_idle_kib=%ld rss_kib=%ld rss_end_kib=%ld "
	    "kib_per_conn=%.3f kib_per_conn_end=%.3f srv_cpu_pct=%.3f "
	    "pong_per_s=%.0f p99_ms=%.3f missed=%llu gen_cpu_pct=%.2f\n", n,
	    nready, held, opt.interval, secs, rss0, rss1, rss2, kib,
	    (double)(rss2 - rss0) / (held > 0 ? held : 1), cpu_pct,
	    run.pongs / secs, hist_pct(&run.lat, 0.99) / 1e6,
	    (unsigned long long)p.missed, (g1 - g0) / secs * 100);
	return (held < n ? EXIT_PARTIAL : EXIT_MEASURED);
}

/* Lets the PINGs in flight be answered, for at most d ns. */
static void
drain(uint64_t d)
{
	uint64_t	 end = mono_ns() + d;
	int		 i, busy;

	do {
		for (busy = 0, i = 0; i < nconns; i++)
			busy += conns[i].state == C_READY && conns[i].busy;
		if (busy == 0)
			return;
		poll_once(5 * MS);
	} while (!stop && now < end);
}

/*
 * Silence's last words before going quiet: a PING with one kind of
 * timeout, or with K kinds a HELLO that asks for T, 1.5T, 2T ... by turns,
 * so that the server keeps K distinct deadlines at once.
 */
static int
silence_start(struct conn *c, int i, uint64_t t)
{
	char	 line[64];
	int	 len;

	if (opt.kinds == 1) {
		c->tmo = t;
		return (conn_ping(c));
	}
	c->tmo = t + t * (i % opt.kinds) / 2;
	len = snprintf(line, sizeof(line), "HELLO s%d timeout=%.3f\n", i,
	    c->tmo / 1e9);
	c->sent = c->last_send = mono_ns();
	return (conn_write(c, line, len));
}

/*
 * Every connection but one PINGs at once and goes quiet; each drop is
 * timed against that PING + T, the client's own view of its deadline.
 * The one left PINGs every 10 ms meanwhile. With -k K the connections
 * ask for K distinct timeouts (silence_start) and each is timed against
 * its own.
 */
static int
run_silence(void)
{
	struct conn	*live = NULL, *c;
	int64_t		*late, *plate;
	uint64_t	 t = opt.timeout * NS, grace, b0, b1, deadline, next;
	int		 i, n = opt.conns, nsilent = 0, nl = 0, early = 0;
	int		 waiting = 0, before, gone;

	if (opt.timeout <= 0)
		fatalx("silence needs -t TIMEOUT, the server's timeout");
	connect_all(n + 1, t / 4);
	for (i = n; i >= 0 && live == NULL; i--) {
		if (conns[i].state == C_READY)
			live = &conns[i];
	}
	if (live == NULL || nready < 2)
		fatalx("too few connections could be made");
	drain(t / 4);
	before = nclosed;
	b0 = mono_ns();
	for (i = 0; i <= n; i++) {
		c = &conns[i];
		if (c == live || c->state != C_READY)
			continue;
		if (silence_start(c, i, t) == -1)
			conn_ended(c);
		c->silent = 1;
		nsilent++;
	}
	b1 = now = mono_ns();
	grace = t > 10 * NS ? t : 10 * NS;
	deadline = b1 + t + t * (opt.kinds - 1) / 2 + grace;
	for (next = b0; !stop; ) {
		now = mono_ns();
		if (waiting && !live->busy) {
			hist_add(&run.lat, live->pong - live->sent);
			waiting = 0;
		}
		if (live->state == C_READY && !live->busy && now >= next) {
			if (conn_ping(live) == -1)
				conn_ended(live);
			waiting = 1;
			next = now + LIVE_EVERY;
		}
		gone = nclosed - before - (live->state == C_CLOSED);
		if (gone >= nsilent || now >= deadline)
			break;
		poll_once(next > now && next - now < 10 * MS ? next - now :
		    10 * MS);
	}
	if (waiting) {
		settle(0);
		for (i = 0; i < 100 && live->busy && live->state == C_READY;
		    i++)
			poll_once(10 * MS);
		hist_add(&run.lat, (live->busy ? mono_ns() : live->pong) -
		    live->sent);
	}
	if ((late = calloc(n + 1, sizeof(*late))) == NULL ||
	    (plate = calloc(n + 1, sizeof(*plate))) == NULL)
		fatal("calloc");
	for (i = 0; i <= n; i++) {
		c = &conns[i];
		if (!c->silent || c->state != C_CLOSED)
			continue;
		late[nl] = (int64_t)(c->end - c->sent) - (int64_t)c->tmo;
		plate[nl] = (int64_t)(c->end - (c->pong > c->sent ? c->pong :
		    c->sent)) - (int64_t)c->tmo;
		early += late[nl] < 0;
		nl++;
	}
	qsort(late, nl, sizeof(*late), cmp_i64);
	qsort(plate, nl, sizeof(*plate), cmp_i64);
	say("silence: %d went quiet in %.2f ms, timeout %.3f s: %d dropped, "
	    "%d not dropped within %.0f s after the deadline, %d early\n",
	    nsilent, (b1 - b0) / 1e6, opt.timeout, nl, nsilent - nl,
	    grace / 1e9, early);
	say("silence: late p50 %.2f ms, p99 %.2f ms, max %.2f ms, min %.2f ms"
	    " (from the PONG: p99 %.2f ms)\n", pct_i64(late, nl, 0.5) / 1e6,
	    pct_i64(late, nl, 0.99) / 1e6, nl ? late[nl - 1] / 1e6 : 0,
	    nl ? late[0] / 1e6 : 0, pct_i64(plate, nl, 0.99) / 1e6);
	say("silence: live client %s, %llu PINGs, RTT p99 %.2f ms, max "
	    "%.2f ms\n", live->state == C_READY ? "kept" : "DROPPED",
	    (unsigned long long)run.lat.n, hist_pct(&run.lat, 0.99) / 1e6,
	    run.lat.max / 1e6);
	printf("RESULT mode=silence conns=%d silent=%d timeout=%.3f "
	    "dropped=%d undropped=%d early=%d late_p50_ms=%.3f "
	    "late_p99_ms=%.3f late_max_ms=%.3f late_min_ms=%.3f "
	    "pong_late_p99_ms=%.3f burst_ms=%.3f live=%s live_pings=%llu "
	    "live_p99_ms=%.3f live_max_ms=%.3f\n", n, nsilent, opt.timeout,
	    nl, nsilent - nl, early, pct_i64(late, nl, 0.5) / 1e6,
	    pct_i64(late, nl, 0.99) / 1e6, nl ? late[nl - 1] / 1e6 : 0,
	    nl ? late[0] / 1e6 : 0, pct_i64(plate, nl, 0.99) / 1e6,
	    (b1 - b0) / 1e6, live->state == C_READY ? "kept" : "dropped",
	    (unsigned long long)run.lat.n, hist_pct(&run.lat, 0.99) / 1e6,
	    run.lat.max / 1e6);
	free(late);
	free(plate);
	if (nl == 0)
		return (EXIT_FAILED);
	return (nsilent < n || nl < nsilent || live->state != C_READY ?
	    EXIT_PARTIAL : EXIT_MEASURED);
}

/*
 * Rounds of BROADCAST: each round's figure is the time from sending the
 * command until the last client has the line; the time until the admin's
 * "OK n" is the server's own share of it.
 *
 * With --lockstep the clients may be spread over several hbbench
 * processes, as a fleet's are when they are more than one process may
 * open: each prints "READY" once its clients are in and a "ROUND" line of
 * CLOCK_MONOTONIC stamps, which are the same clock in every process, once
 * its clients have a round's line. The one with -a sends each BROADCAST
 * only after a line on its stdin, which its caller writes once every
 * process has reported the round before: the rounds never overlap, and
 * the caller takes the last client over all processes.
 */
static int
run_fanout(void)
{
	static char	 cmd[64];
	int64_t		*all, *ok;
	uint64_t	 t0, oks, expect, c0 = 0, c1 = 0;
	double		 tick = sysconf(_SC_CLK_TCK), cpu_ms = 0;
	int		 r, nr = 0, len, partial = 0, cpu_ok;

	connect_named();
	if (opt.lockstep)
		printf("READY conns=%d ready=%d\n", opt.conns, nready);
	if (adm.fd == -1)
		return (fanout_receive());
	if ((all = calloc(opt.rounds, sizeof(*all))) == NULL ||
	    (ok = calloc(opt.rounds, sizeof(*ok))) == NULL)
		fatal("calloc");
	cpu_ok = proc_cpu(opt.pid, &c0) == 0;
	for (r = 1; r <= opt.rounds && !stop; r++) {
		if (opt.lockstep && await_go() == -1)
			break;
		settle(ROUND_GAP);
		expect = nready - nclosed;
		fanout_token(r);
		oks = adm.oks;
		len = snprintf(cmd, sizeof(cmd), "BROADCAST %s\n", run.token);
		t0 = now = mono_ns();
		admin_send(cmd, len);
		while (!stop && (run.got < expect || adm.oks == oks) &&
		    now - t0 < WAIT_MAX)
			poll_once(10 * MS);
		if (opt.lockstep) {
			printf("ROUND %d got=%llu of=%llu last_ns=%llu "
			    "sent_ns=%llu ok_ns=%llu ok=%lld\n", r,
			    (unsigned long long)run.got,
			    (unsigned long long)expect,
			    (unsigned long long)run.last_got,
			    (unsigned long long)t0,
			    (unsigned long long)(adm.oks == oks ? 0 :
			    adm.last_ok), adm.oks == oks ? -1 : adm.ok_value);
			fflush(stdout);
		}
		if (run.got < expect || adm.oks == oks) {
			say("fanout: round %d: %llu of %llu clients had the "
			    "line after %.0f s\n", r,
			    (unsigned long long)run.got,
			    (unsigned long long)expect, WAIT_MAX / 1e9);
			partial = 1;
			break;
		}
		if (adm.ok_value != (long long)expect && !opt.lockstep)
			say("fanout: round %d: the server queued %lld, %llu "
			    "connected\n", r, adm.ok_value,
			    (unsigned long long)expect);
		all[nr] = run.last_got - t0;
		ok[nr] = adm.last_ok - t0;
		nr++;
	}
	if (nr == 0)
		fatalx("no BROADCAST round completed");
	if ((cpu_ok = cpu_ok && proc_cpu(opt.pid, &c1) == 0))
		cpu_ms = (c1 - c0) / tick * 1e3 / nr;
	qsort(all, nr, sizeof(*all), cmp_i64);
	qsort(ok, nr, sizeof(*ok), cmp_i64);
	say("fanout: %llu clients, %d rounds: all have the line after p50 "
	    "%.2f ms (min %.2f, max %.2f); OK after p50 %.2f ms\n",
	    (unsigned long long)(nready - nclosed), nr,
	    pct_i64(all, nr, 0.5) / 1e6, all[0] / 1e6, all[nr - 1] / 1e6,
	    pct_i64(ok, nr, 0.5) / 1e6);
	say("fanout: server CPU %s ms a round\n", fig(cpu_ms, cpu_ok, "%.2f"));
	printf("RESULT mode=fanout conns=%d ready=%d rounds=%d "
	    "all_p50_ms=%.3f all_min_ms=%.3f all_max_ms=%.3f "
	    "ok_p50_ms=%.3f cpu_ms_per_round=%s\n", opt.conns, nready, nr,
	    pct_i64(all, nr, 0.5) / 1e6, all[0] / 1e6, all[nr - 1] / 1e6,
	    pct_i64(ok, nr, 0.5) / 1e6, fig(cpu_ms, cpu_ok, "%.2f"));
	free(all);
	free(ok);
	return (partial || nready < opt.conns || nr < opt.rounds ?
	    EXIT_PARTIAL : EXIT_MEASURED);
}

/*
 * fanout --lockstep without -a: for each round, the moment the last of
 * this process's clients had its line. The first line of a round may be
 * long in coming (the other processes connecting, their caller, the
 * round's gap): STEP_MAX; the rest follow within WAIT_MAX of it.
 */
static int
fanout_receive(void)
{
	uint64_t	 t0, expect;
	int		 r, nr = 0;

	fflush(stdout);
	for (r = 1; r <= opt.rounds && !stop; r++) {
		expect = nready - nclosed;
		fanout_token(r);
		t0 = now = mono_ns();
		while (!stop && run.got < expect && (run.got == 0 ?
		    now - t0 < STEP_MAX : now - run.first_got < WAIT_MAX))
			poll_once(10 * MS);
		printf("ROUND %d got=%llu of=%llu last_ns=%llu\n", r,
		    (unsigned long long)run.got, (unsigned long long)expect,
		    (unsigned long long)run.last_got);
		fflush(stdout);
		if (run.got < expect)
			break;
		nr++;
	}
	printf("RESULT mode=fanout conns=%d ready=%d rounds=%d\n", opt.conns,
	    nready, nr);
	return (nr == 0 ? EXIT_FAILED : nr < opt.rounds ||
	    nready < opt.conns ? EXIT_PARTIAL : EXIT_MEASURED);
}

/* Round r's line is fanout-<r>: no client has it yet. */
static void
fanout_token(int r)
{
	run.round = r;
	run.toklen = snprintf(run.token, sizeof(run.token), "fanout-%d", r);
	run.got = 0;
}

/*
 * fanout --lockstep with -a: waits for the caller's go (a line on stdin)
 * before a round, what it printed flushed; -1 when stdin ends, the
 * caller's way to stop.
 */
static int
await_go(void)
{
	char	 line[64];

	fflush(stdout);
	return (fgets(line, sizeof(line), stdin) == NULL ? -1 : 0);
}

/*
 * COUNT "SEND hb<i> push" lines, round robin over the named clients, all
 * written at once on one admin session; done when every command is
 * answered and every answered line has reached its client.
 */
static int
run_push(void)
{
	char		*buf;
	int		*to;
	size_t		 len = 0, cap;
	uint64_t	 t0, t1, c0 = 0, c1 = 0, limit;
	double		 tick = sysconf(_SC_CLK_TCK), secs, cpu_s, g0, g1;
	int		 k, nto, cpu_ok;

	connect_named();
	nto = ready_slots(&to);
	cap = (size_t)opt.count * 24 + 1;
	if ((buf = malloc(cap)) == NULL)
		fatal("malloc");
	for (k = 0; k < opt.count; k++)
		len += snprintf(buf + len, cap - len, "SEND hb%d push\n",
		    to[k % nto]);
	settle(ROUND_GAP);
	run.other = 0;
	adm.oks = adm.errs = 0;
	limit = WAIT_MAX + (uint64_t)opt.count * 10 * US;
	cpu_ok = proc_cpu(opt.pid, &c0) == 0;
	g0 = self_cpu_s();
	t0 = now = mono_ns();
	admin_send(buf, len);
	while (!stop && (adm.oks + adm.errs < (uint64_t)opt.count ||
	    run.other < adm.oks) && now - t0 < limit)
		poll_once(10 * MS);
	t1 = now;
	cpu_ok = cpu_ok && proc_cpu(opt.pid, &c1) == 0;
	g1 = self_cpu_s();
	secs = (t1 - t0) / 1e9;
	cpu_s = (c1 - c0) / tick;
	say("push: %d SENDs to %d clients in %.3f s: %.0f SENDs/s end to end;"
	    " last OK after %.3f s; %llu OK, %llu ERR, %llu delivered\n",
	    opt.count, nto, secs, opt.count / secs,
	    (adm.last_ok - t0) / 1e9, (unsigned long long)adm.oks,
	    (unsigned long long)adm.errs, (unsigned long long)run.other);
	say("push: server CPU %s us/SEND (%s%% of a core), hbbench %.0f%%\n",
	    fig(cpu_s * 1e6 / opt.count, cpu_ok, "%.3f"),
	    fig(cpu_s / secs * 100, cpu_ok, "%.1f"), (g1 - g0) / secs * 100);
	printf("RESULT mode=push conns=%d ready=%d count=%d ok=%llu err=%llu "
	    "delivered=%llu secs=%.3f send_per_s=%.0f ok_per_s=%.0f "
	    "cpu_us_per_send=%s srv_cpu_pct=%s gen_cpu_pct=%.1f\n", opt.conns,
	    nready, opt.count, (unsigned long long)adm.oks,
	    (unsigned long long)adm.errs, (unsigned long long)run.other, secs,
	    opt.count / secs, opt.count / ((adm.last_ok - t0) / 1e9),
	    fig(cpu_s * 1e6 / opt.count, cpu_ok, "%.3f"),
	    fig(cpu_s / secs * 100, cpu_ok, "%.1f"), (g1 - g0) / secs * 100);
	free(buf);
	free(to);
	if (adm.oks == 0)
		return (EXIT_FAILED);
	return (adm.oks < (uint64_t)opt.count || run.other < adm.oks ||
	    nready < opt.conns ? EXIT_PARTIAL : EXIT_MEASURED);
}

/* acked: answers "MSG <id> <message>" with "ACK <id>" at once. */
static void
conn_ack(struct conn *c, const char *rest, size_t len)
{
	char		 buf[40];
	const char	*sp;
	size_t		 n;

	run.msgs++;
	sp = memchr(rest, ' ', len);
	n = sp != NULL ? (size_t)(sp - rest) : len;
	if (n == 0 || n > 20)
		return;
	memcpy(buf, "ACK ", 4);
	memcpy(buf + 4, rest, n);
	buf[4 + n] = '\n';
	if (conn_write(c, buf, n + 5) == -1)
		conn_ended(c);
}

/* acked: counts the watcher's "EVENT <seq> acked #<c> id=<id>" lines. */
static void
watch_line(const char *line, size_t len)
{
	const char	*sp;

	if (len < 6 || memcmp(line, "EVENT ", 6) != 0 ||
	    (sp = memchr(line + 6, ' ', len - 6)) == NULL)
		return;
	if ((size_t)(line + len - sp) > 7 && memcmp(sp, " acked ", 7) == 0)
		run.deleted++;
}

/* acked: polls until *count reaches want, or for limit ns. */
static void
acked_wait(const uint64_t *count, uint64_t want, uint64_t limit)
{
	uint64_t	 t0 = now;

	while (!stop && *count < want && now - t0 < limit)
		poll_once(10 * MS);
}

/*
 * Pushes to named clients that ACK each MSG at once. First -n PUSHes
 * pipelined on one session: how fast they are answered OK (with a state
 * file, each only once synced) and all delivered and ACKed. Then -r
 * single pushes, one at a time, with a second session watching "acked"
 * events, the moment a push is deleted: the latency of PUSH -> MSG ->
 * ACK -> deleted. (The watcher starts only then: at full speed it would
 * fall behind and be dropped as a slow watcher.)
 */
static int
run_acked(void)
{
	char		*buf, line[96];
	int		*to;
	size_t		 len = 0, cap;
	uint64_t	 t0, base, limit, oks, c0 = 0, c1 = 0;
	double		 tick = sysconf(_SC_CLK_TCK), ok_s, all_s, cpu_s;
	int		 k, nto, cpu_ok;
	struct hist	*lat = &run.lat;

	connect_named();
	nto = ready_slots(&to);
	cap = (size_t)opt.count * 32 + 1;
	if ((buf = malloc(cap)) == NULL)
		fatal("malloc");
	for (k = 0; k < opt.count; k++)
		len += snprintf(buf + len, cap - len, "PUSH hb%d 0 p%d\n",
		    to[k % nto], k);
	run.ack = 1;
	settle(ROUND_GAP);
	adm.oks = adm.errs = 0;
	limit = WAIT_MAX + (uint64_t)opt.count * 20 * US;
	cpu_ok = proc_cpu(opt.pid, &c0) == 0;
	t0 = now = mono_ns();
	admin_send(buf, len);
	while (!stop && adm.oks + adm.errs < (uint64_t)opt.count &&
	    now - t0 < limit)
		poll_once(10 * MS);
	ok_s = (adm.last_ok - t0) / 1e9;
	oks = adm.oks;
	acked_wait(&run.msgs, oks, limit);
	all_s = (now - t0) / 1e9;
	cpu_ok = cpu_ok && proc_cpu(opt.pid, &c1) == 0;
	cpu_s = (c1 - c0) / tick;
	say("acked: %d PUSHes pipelined to %d clients: last OK after %.3f s "
	    "(%.0f PUSH/s), all ACKed after %.3f s; %llu OK, %llu ERR, "
	    "%llu MSG; server CPU %s us/push\n", opt.count, nto, ok_s,
	    oks / ok_s, all_s, (unsigned long long)oks,
	    (unsigned long long)adm.errs, (unsigned long long)run.msgs,
	    fig(cpu_s * 1e6 / opt.count, cpu_ok, "%.2f"));

	settle(200 * MS);
	wat.line = watch_line;
	admin_open(&wat);
	if (send(wat.fd, "WATCH acked\n", 12, MSG_NOSIGNAL) != 12)
		fatal("watch send");
	settle(50 * MS);
	memset(lat, 0, sizeof(*lat));
	base = run.deleted;
	for (k = 0; k < opt.rounds && !stop; k++) {
		len = snprintf(line, sizeof(line), "PUSH hb%d 0 l%d\n",
		    to[k % nto], k);
		settle(MS);
		t0 = now = mono_ns();
		admin_send(line, len);
		acked_wait(&run.deleted, base + k + 1, WAIT_MAX);
		if (run.deleted < base + k + 1)
			break;
		hist_add(lat, now - t0);
	}
	say("acked: %llu single pushes, PUSH -> MSG -> ACK -> deleted: "
	    "p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
	    (unsigned long long)lat->n, hist_pct(lat, 0.5) / 1e6,
	    hist_pct(lat, 0.99) / 1e6, lat->max / 1e6);
	printf("RESULT mode=acked conns=%d ready=%d count=%d ok=%llu err=%llu "
	    "msgs=%llu ok_secs=%.3f push_per_s=%.0f "
	    "all_secs=%.3f cpu_us_per_push=%s probes=%llu p50_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f\n", opt.conns, nready, opt.count,
	    (unsigned long long)oks, (unsigned long long)adm.errs,
	    (unsigned long long)run.msgs, ok_s, oks / ok_s, all_s,
	    fig(cpu_s * 1e6 / opt.count, cpu_ok, "%.2f"),
	    (unsigned long long)lat->n, hist_pct(lat, 0.5) / 1e6,
	    hist_pct(lat, 0.99) / 1e6, lat->max / 1e6);
	free(buf);
	free(to);
	if (oks == 0)
		return (EXIT_FAILED);
	return (oks < (uint64_t)opt.count || run.msgs < adm.oks ||
	    lat->n < (uint64_t)opt.rounds ? EXIT_PARTIAL : EXIT_MEASURED);
}

/*
 * The names (the n of hb<n>) of the connections ready, into *to
 * (malloc'd): how many.
 */
static int
ready_slots(int **to)
{
	int	 i, n = 0;

	if ((*to = calloc(nconns, sizeof(**to))) == NULL)
		fatal("calloc");
	for (i = 0; i < nconns; i++) {
		if (conns[i].state == C_READY)
			(*to)[n++] = i + opt.first;
	}
	return (n);
}

/*
 * One "SEND hb<i> route" at a time, round robin over the named clients,
 * each written once the one before is answered; for -d seconds after a
 * -w warm-up. The figure is each answer's latency, from the write to
 * the loop turn that read it: with -a another node's admin port, the
 * round trip through the fleet's Redis to the node holding the client
 * and back.
 */
static int
run_route(void)
{
	static char	 cmd[64];
	int		*to;
	uint64_t	 t0, warm, end, answered, n = 0, first = 0, last = 0;
	int		 k = 0, nto, len, late = 0;

	connect_named();
	nto = ready_slots(&to);
	settle(ROUND_GAP);
	memset(&run.lat, 0, sizeof(run.lat));
	warm = mono_ns() + (uint64_t)(opt.warmup * NS);
	end = warm + (uint64_t)(opt.duration * NS);
	for (now = mono_ns(); !stop && now < end; ) {
		len = snprintf(cmd, sizeof(cmd), "SEND hb%d route\n",
		    to[k++ % nto]);
		answered = adm.oks + adm.errs;
		t0 = now = mono_ns();
		admin_send(cmd, len);
		while (!stop && adm.oks + adm.errs == answered &&
		    now - t0 < WAIT_MAX)
			poll_once(10 * MS);
		if (adm.oks + adm.errs == answered) {
			late = 1;
			break;
		}
		if (t0 < warm)
			continue;
		if (n++ == 0)
			first = t0;
		last = now;
		hist_add(&run.lat, now - t0);
	}
	free(to);
	if (n == 0)
		fatalx("no SEND was answered in the window");
	say("route: %llu SENDs one at a time, %.0f/s: p50 %.3f ms, p99 %.3f "
	    "ms, max %.3f ms; %llu OK, %llu ERR\n", (unsigned long long)n,
	    n / ((last - first) / 1e9 + 1e-9), hist_pct(&run.lat, 0.5) / 1e6,
	    hist_pct(&run.lat, 0.99) / 1e6, run.lat.max / 1e6,
	    (unsigned long long)adm.oks, (unsigned long long)adm.errs);
	printf("RESULT mode=route conns=%d ready=%d sends=%llu p50_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f ok=%llu err=%llu\n", opt.conns, nready,
	    (unsigned long long)n, hist_pct(&run.lat, 0.5) / 1e6,
	    hist_pct(&run.lat, 0.99) / 1e6, run.lat.max / 1e6,
	    (unsigned long long)adm.oks, (unsigned long long)adm.errs);
	return (late || adm.errs > 0 || nready < opt.conns ? EXIT_PARTIAL :
	    EXIT_MEASURED);
}

/*
 * opt.conns handshakes at a time: each slot connects, does a full TLS
 * handshake, PINGs once (the PONG proves the server finished its side
 * too), closes and starts again at once. The figure is the server's CPU
 * over -d seconds after a -w warm-up, divided by the handshakes completed
 * in that window: the whole life of a connection, accept to close, of
 * which the handshake is nearly all.
 */
static int
run_handshake(void)
{
	struct conn	*c;
	uint64_t	 c0 = 0, c1 = 0, t0 = 0, t1, warm, end;
	double		 tick = sysconf(_SC_CLK_TCK), secs, cpu_s, g0 = 0, g1;
	int		 i, h0 = 0, f0 = 0, hs, nf, cpu_ok = 0, measuring = 0;

	if (tls_ctx == NULL)
		fatalx("handshake needs --tls");
	opt.hello = 0;
	nconns = opt.conns;
	warm = mono_ns() + (uint64_t)(opt.warmup * NS);
	end = warm + (uint64_t)(opt.duration * NS);
	for (now = mono_ns(); !stop && now < end; poll_once(10 * MS)) {
		if (!measuring && now >= warm) {
			cpu_ok = proc_cpu(opt.pid, &c0) == 0;
			g0 = self_cpu_s();
			t0 = now;
			h0 = nready;
			f0 = nfailed;
			measuring = 1;
		}
		for (i = 0; i < nconns; i++) {
			c = &conns[i];
			if (c->state == C_IDLE || c->state == C_READY ||
			    c->state == C_FAILED || c->state == C_CLOSED) {
				conn_close(c);
				conn_open(i);
			}
		}
	}
	t1 = mono_ns();
	cpu_ok = cpu_ok && proc_cpu(opt.pid, &c1) == 0;
	g1 = self_cpu_s();
	hs = nready - h0;
	nf = nfailed - f0;
	secs = (t1 - t0) / 1e9;
	if (!measuring || hs == 0)
		fatalx("no handshake completed (%d failed)", nf);
	cpu_s = (c1 - c0) / tick;
	say("handshake: %d in flight, %.2f s: %d handshakes, %.0f/s, "
	    "%d failed\n", opt.conns, secs, hs, hs / secs, nf);
	say("handshake: server CPU %s us/handshake (%s%% of a core), "
	    "hbbench %.0f%%\n", fig(cpu_s * 1e6 / hs, cpu_ok, "%.1f"),
	    fig(cpu_s / secs * 100, cpu_ok, "%.1f"), (g1 - g0) / secs * 100);
	printf("RESULT mode=handshake inflight=%d secs=%.3f handshakes=%d "
	    "failed=%d hs_per_s=%.0f cpu_us_per_hs=%s srv_cpu_pct=%s "
	    "gen_cpu_pct=%.1f\n", opt.conns, secs, hs, nf, hs / secs,
	    fig(cpu_s * 1e6 / hs, cpu_ok, "%.2f"),
	    fig(cpu_s / secs * 100, cpu_ok, "%.1f"), (g1 - g0) / secs * 100);
	return (nf > 0 ? EXIT_PARTIAL : EXIT_MEASURED);
}

/*
 * opt.conns steady connections PING every -i seconds, spread evenly; a
 * -w window gives their RTT at rest, then opt.count more connect at once
 * and greet with HELLO storm-<i> (with -G, PING). The figures: the time
 * from the storm's first connect until each of it is ready (answered OK or
 * PONG), and the steady connections' RTT meanwhile.
 */
static int
run_storm(void)
{
	struct pacer	 p;
	uint64_t	 c0 = 0, c1 = 0;
	double		 tick = sysconf(_SC_CLK_TCK), secs, rest, g0, g1;
	long long	 d0, d1;
	int		 hello = opt.hello != 0, n = opt.conns, cpu_ok;

	opt.hello = 0;
	connect_all(n, (uint64_t)(opt.interval * NS / 2));
	if (nready < n)
		fatalx("only %d of %d steady connections", nready, n);
	pacer_start(&p, n, opt.interval);
	run.measuring = 1;
	paced(&p, p.base + (uint64_t)(opt.warmup * NS));
	rest = hist_pct(&run.lat, 0.99) / 1e6;
	memset(&run.lat, 0, sizeof(run.lat));
	p.missed = 0;
	opt.hello = hello;
	d0 = listen_drops();
	cpu_ok = proc_cpu(opt.pid, &c0) == 0;
	g0 = self_cpu_s();
	storm(&p);
	cpu_ok = cpu_ok && proc_cpu(opt.pid, &c1) == 0;
	g1 = self_cpu_s();
	d1 = listen_drops();
	run.measuring = 0;
	secs = (now - run.t0) / 1e9;
	say("storm: %llu of %d ready after %.3f s (p50 %.3f s, p99 %.3f s), "
	    "%lld listen drops; server CPU %s ms, hbbench %.0f%%\n",
	    (unsigned long long)run.named.n, opt.count, run.named.max / 1e9,
	    hist_pct(&run.named, 0.5) / 1e9, hist_pct(&run.named, 0.99) / 1e9,
	    d1 - d0, fig((c1 - c0) / tick * 1e3, cpu_ok, "%.0f"),
	    (g1 - g0) / secs * 100);
	say("storm: %d steady PING RTT p99 %.2f ms, max %.2f ms (at rest: p99 "
	    "%.2f ms), %llu late, %d dropped; hbbench's longest turn %.2f ms\n",
	    n, hist_pct(&run.lat, 0.99) / 1e6, run.lat.max / 1e6, rest,
	    (unsigned long long)p.missed, nclosed, run.turn_max / 1e6);
	printf("RESULT mode=storm conns=%d storm=%d named=%llu secs=%.3f "
	    "all_named_ms=%.1f named_p50_ms=%.1f named_p99_ms=%.1f "
	    "listen_drops=%lld pings=%llu ping_p99_ms=%.3f ping_max_ms=%.3f "
	    "rest_p99_ms=%.3f missed=%llu closed=%d srv_cpu_ms=%s "
	    "gen_cpu_pct=%.1f turn_max_ms=%.3f\n", n, opt.count,
	    (unsigned long long)run.named.n, secs, run.named.max / 1e6,
	    hist_pct(&run.named, 0.5) / 1e6, hist_pct(&run.named, 0.99) / 1e6,
	    d1 - d0, (unsigned long long)run.lat.n,
	    hist_pct(&run.lat, 0.99) / 1e6, run.lat.max / 1e6, rest,
	    (unsigned long long)p.missed, nclosed,
	    fig((c1 - c0) / tick * 1e3, cpu_ok, "%.0f"),
	    (g1 - g0) / secs * 100, run.turn_max / 1e6);
	return (run.named.n < (uint64_t)opt.count || nclosed > 0 ?
	    EXIT_PARTIAL : EXIT_MEASURED);
}

/*
 * Opens the storm, STORM_CHUNK connects a loop turn, and runs the loop with
 * p's PINGs until every one is ready or failed, or nothing moved for -T
 * seconds. The storm's connections have an epoll set of their own, served
 * a few events a loop turn (poll_storm()), so that the generator's
 * handshakes do not pose as the server's latency; the longest turn is
 * the most that a reply waited here before it was stamped.
 */
static void
storm(struct pacer *p)
{
	uint64_t		 due, last, patience = opt.patience * NS;
	uint64_t		 t;
	int			 next, end, k, done, last_done = -1;
	int			 f0 = nfailed;

	side_set(opt.count);
	next = storm_first;
	end = nconns;
	run.t0 = last = now = mono_ns();
	while (!stop) {
		for (k = 0; k < STORM_CHUNK && next < end; k++)
			conn_open(next++);
		done = (int)run.named.n + nfailed - f0;
		if (done >= opt.count)
			break;
		if (done != last_done) {
			last_done = done;
			last = now;
		} else if (now - last > patience)
			break;
		due = pace(p);
		if ((t = mono_ns()) - now > run.turn_max)
			run.turn_max = t - now;
		poll_once(next < end ? 0 : due - now < 10 * MS ? due - now :
		    10 * MS);
	}
	fail_pending(storm_first, end);
}

/*
 * Gives the storm's or churn's slots, after those of the steady
 * connections, an epoll set of their own: one event of the main set,
 * served a few events a loop turn (poll_storm()).
 */
static void
side_set(int slots)
{
	struct epoll_event	 ev;

	if ((sepfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = STORM_ID;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sepfd, &ev) == -1)
		fatal("epoll_ctl storm");
	storm_first = nconns;
	nconns += slots;
}

/*
 * opt.conns steady connections, named hb<i>, PING every -i seconds, spread
 * evenly, while opt.rounds cycles a second each connect, send HELLO
 * churn-<k>, wait for OK and close, at most opt.window of them in flight.
 * After a -w warm-up of both, -d seconds are measured: the steady PING
 * RTT, the cycles completed and failed, the server's CPU and that of its
 * threads other than the main one (a state file's writer thread, say).
 */
static int
run_churn(void)
{
	struct pacer	 p;
	struct churn	 ch;
	uint64_t	 c0 = 0, c1 = 0, w0 = 0, w1 = 0, t0, t1, end;
	double		 tick = sysconf(_SC_CLK_TCK), g0;
	int		 i, f0;

	opt.hello = 1;
	connect_all(opt.conns, (uint64_t)(opt.interval * NS / 2));
	if (nready < opt.conns)
		fatalx("only %d of %d steady connections", nready, opt.conns);
	side_set(opt.window);
	memset(&ch, 0, sizeof(ch));
	ch.pool = opt.window;
	ch.step = NS / opt.rounds;
	pacer_start(&p, opt.conns, opt.interval);
	ch.due = p.base;
	churn(&p, &ch, p.base + (uint64_t)(opt.warmup * NS));
	memset(&run.named, 0, sizeof(run.named));
	ch.behind = 0;
	if ((ch.sec_p99 = calloc((size_t)opt.duration + 1,
	    sizeof(*ch.sec_p99))) == NULL)
		fatal("calloc");
	f0 = nfailed;
	ch.cpu_ok = proc_cpu(opt.pid, &c0) == 0 &&
	    proc_threads_ns(opt.pid, &w0) == 0;
	g0 = self_cpu_s();
	t0 = now = mono_ns();
	ch.sec_end = t0 + NS;
	run.measuring = 1;
	churn(&p, &ch, t0 + (uint64_t)(opt.duration * NS));
	run.measuring = 0;
	t1 = mono_ns();
	ch.cpu_ok = ch.cpu_ok && proc_cpu(opt.pid, &c1) == 0 &&
	    proc_threads_ns(opt.pid, &w1) == 0;
	ch.secs = (t1 - t0) / 1e9;
	ch.gen_pct = (self_cpu_s() - g0) / ch.secs * 100;
	ch.srv_pct = (c1 - c0) / tick / ch.secs * 100;
	ch.writer_ms = (int64_t)(w1 - w0) / 1e6;
	ch.cycles = run.named.n;

	/* The cycles in flight may finish; those that cannot have failed. */
	for (end = t1 + CHURN_DRAIN; inflight > 0 && !stop && now < end; )
		poll_once(10 * MS);
	for (i = storm_first; i < nconns; i++) {
		if (conn_pending(&conns[i]))
			conn_fail(&conns[i]);
	}
	ch.failed = nfailed - f0;
	churn_report(&ch, &p);
	free(ch.sec_p99);
	return (ch.failed > 0 || nclosed > 0 ? EXIT_PARTIAL : EXIT_MEASURED);
}

/*
 * The figures of run_churn(), for a human and in the RESULT line. Beside
 * the window's PING p99 is the median of its seconds' p99s, which a burst
 * of some other load on a shared machine moves less, while a cost that
 * the server pays every second, such as a writer's batch, moves it as
 * much.
 */
static void
churn_report(struct churn *ch, const struct pacer *p)
{
	const char	*srv, *wms, *wpct;
	double		 med;

	qsort(ch->sec_p99, ch->nsec, sizeof(*ch->sec_p99), cmp_i64);
	med = pct_i64(ch->sec_p99, ch->nsec, 0.5) / 1e6;
	srv = fig(ch->srv_pct, ch->cpu_ok, "%.2f");
	wms = fig(ch->writer_ms, ch->cpu_ok, "%.1f");
	wpct = fig(ch->writer_ms / 10 / ch->secs, ch->cpu_ok, "%.3f");
	say("churn: %d cycles a second over %d names, %.2f s: %llu completed "
	    "(%.0f/s), %d failed, at most %llu waiting for a slot; cycle p50 "
	    "%.2f ms p99 %.2f ms\n", opt.rounds, opt.count, ch->secs,
	    (unsigned long long)ch->cycles, ch->cycles / ch->secs, ch->failed,
	    (unsigned long long)ch->behind, hist_pct(&run.named, 0.5) / 1e6,
	    hist_pct(&run.named, 0.99) / 1e6);
	say("churn: %d steady PING RTT p50 %.3f ms p99 %.3f ms (a second's, "
	    "median of %d: %.3f ms) max %.3f ms, %llu late, %d dropped; "
	    "hbbench's longest turn %.2f ms\n", opt.conns,
	    hist_pct(&run.lat, 0.5) / 1e6, hist_pct(&run.lat, 0.99) / 1e6,
	    ch->nsec, med, run.lat.max / 1e6,
	    (unsigned long long)p->missed, nclosed, run.turn_max / 1e6);
	say("churn: server CPU %s%% of a core, its threads but the main one "
	    "%s ms (%s%%); hbbench %.0f%%\n", srv, wms, wpct, ch->gen_pct);
	printf("RESULT mode=churn conns=%d rate=%d names=%d secs=%.3f "
	    "cycles=%llu failed=%d behind=%llu cycles_per_s=%.0f "
	    "cycle_p50_ms=%.3f cycle_p99_ms=%.3f pings=%llu ping_p50_ms=%.3f "
	    "ping_p99_ms=%.3f ping_p99_sec_ms=%.3f ping_max_ms=%.3f "
	    "missed=%llu closed=%d "
	    "srv_cpu_pct=%s writer_cpu_ms=%s writer_cpu_pct=%s "
	    "gen_cpu_pct=%.1f turn_max_ms=%.3f\n", opt.conns, opt.rounds,
	    opt.count, ch->secs, (unsigned long long)ch->cycles, ch->failed,
	    (unsigned long long)ch->behind, ch->cycles / ch->secs,
	    hist_pct(&run.named, 0.5) / 1e6, hist_pct(&run.named, 0.99) / 1e6,
	    (unsigned long long)run.lat.n, hist_pct(&run.lat, 0.5) / 1e6,
	    hist_pct(&run.lat, 0.99) / 1e6, med, run.lat.max / 1e6,
	    (unsigned long long)p->missed, nclosed, srv, wms, wpct,
	    ch->gen_pct, run.turn_max / 1e6);
}

/*
 * Runs the loop with p's PINGs and ch's cycles until the time until, or
 * until stopped. A cycle due while every slot is busy starts as soon as
 * one is free, the schedule kept: a slow server faces the backlog that
 * real devices would make. The longest loop turn is kept, as in storm().
 */
static void
churn(struct pacer *p, struct churn *ch, uint64_t until)
{
	uint64_t	 due, t;
	int		 full;

	while (!stop) {
		now = mono_ns();
		if (run.measuring && now >= ch->sec_end)
			churn_second(ch);
		if (now >= until)
			break;
		due = pace(p);
		for (full = 0; ch->due <= now; ch->due += ch->step) {
			if ((full = churn_start(ch) == -1))
				break;
		}
		if (full && (now - ch->due) / ch->step + 1 > ch->behind)
			ch->behind = (now - ch->due) / ch->step + 1;
		if (!full && ch->due < due)
			due = ch->due;
		if (due > until)
			due = until;
		if ((t = mono_ns()) - now > run.turn_max)
			run.turn_max = t - now;
		poll_once(due - now < 10 * MS ? due - now : 10 * MS);
	}
}

/* Keeps the p99 of the second that ended, and starts the next. */
static void
churn_second(struct churn *ch)
{
	if (ch->nsec < (int)opt.duration + 1)
		ch->sec_p99[ch->nsec++] = (int64_t)hist_pct(&run.sec, 0.99);
	memset(&run.sec, 0, sizeof(run.sec));
	ch->sec_end += NS;
}

/*
 * Starts a cycle in a free slot, searched round robin from the last one
 * taken, so that a slot's last socket has long been closed; -1 if every
 * slot is busy.
 */
static int
churn_start(struct churn *ch)
{
	struct conn	*c;
	int		 i, id;

	for (i = 0; i < ch->pool; i++) {
		id = storm_first + (ch->cursor + i) % ch->pool;
		c = &conns[id];
		if (conn_pending(c))
			continue;
		ch->cursor = (ch->cursor + i + 1) % ch->pool;
		c->plen = 0;
		c->sent = mono_ns();
		conn_open(id);
		return (0);
	}
	return (-1);
}

/* Sets a numeric option from its table entry; -1 if ch is not one. */
static int
num_opt(int ch, const char *arg)
{
	static const struct {
		int	 ch;
		double	 lo, hi;
		double	*d;		/* a double option, or */
		int	*i;		/* an int one */
	} t[] = {
		{ 'C', 0, CPU_SETSIZE - 1, NULL, &opt.cpu },
		{ 'c', 1, 1000000, NULL, &opt.conns },
		{ 'd', 0.1, 86400, &opt.duration, NULL },
		{ 'i', 0.01, 86400, &opt.interval, NULL },
		{ 'k', 1, 100, NULL, &opt.kinds },
		{ 'n', 1, 100000000, NULL, &opt.count },
		{ 'o', 0, 100000000, NULL, &opt.first },
		{ 'p', 1, INT_MAX, NULL, &opt.pid },
		{ 'r', 1, 100000, NULL, &opt.rounds },
		{ 'T', 0.1, 3600, &opt.patience, NULL },
		{ 't', 0.001, 86400, &opt.timeout, NULL },
		{ 'W', 1, 1000000, NULL, &opt.window },
		{ 'w', 0, 3600, &opt.warmup, NULL },
	};
	char	 what[3] = { '-', (char)ch, '\0' };
	double	 v;
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].ch != ch)
			continue;
		v = parse_num(arg, t[i].lo, t[i].hi, what);
		if (t[i].d != NULL)
			*t[i].d = v;
		else
			*t[i].i = (int)v;
		return (0);
	}
	return (-1);
}

/* Fills opt.addr with host and each port of the comma-separated list. */
static void
parse_ports(const char *host, const char *ports)
{
	char	*copy, *p, *last;

	if ((copy = strdup(ports)) == NULL)
		fatal("strdup");
	for (p = strtok_r(copy, ",", &last); p != NULL;
	    p = strtok_r(NULL, ",", &last)) {
		if (opt.naddr == PORTS_MAX)
			fatalx("more than %d ports", PORTS_MAX);
		parse_addr(&opt.addr[opt.naddr++], host, p);
	}
	free(copy);
	if (opt.naddr == 0)
		usage();
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;		/* in enum mode's order */
		int		(*run)(void);
	} modes[] = {
		{ "rtt", run_rtt }, { "hold", run_hold },
		{ "silence", run_silence }, { "fanout", run_fanout },
		{ "push", run_push }, { "handshake", run_handshake },
		{ "storm", run_storm }, { "churn", run_churn },
		{ "acked", run_acked },
		{ "route", run_route },
	};
	static const struct option longopts[] = {
		{ "tls", no_argument, &opt.tls, 1 },
		{ "awake", no_argument, &opt.awake, 1 },
		{ "lockstep", no_argument, &opt.lockstep, 1 },
		{ NULL, 0, NULL, 0 }
	};
	const char		*host = "127.0.0.1", *port = "7000";
	const char		*aport = NULL;
	int			 ch, rv;
	size_t			 i;

	if (argc < 2)
		usage();
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name) == 0)
			break;
	}
	if (i == sizeof(modes) / sizeof(modes[0]))
		usage();
	opt.mode = (enum mode)i;
	opt.mode_name = modes[i].name;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "a:C:c:d:GHh:i:k:n:o:P:p:qr:T:t:W:w:",
	    longopts, NULL)) != -1) {
		if (num_opt(ch, optarg) == 0)
			continue;
		switch (ch) {
		case 0:
			break;		/* a flag set by getopt_long */
		case 'a':
			aport = optarg;
			break;
		case 'G':
			opt.hello = 0;
			break;
		case 'H':
			opt.hello = 1;
			break;
		case 'h':
			host = optarg;
			break;
		case 'P':
			port = optarg;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (opt.lockstep && opt.mode != M_FANOUT))
		usage();
	if (opt.count == 0)
		opt.count = opt.mode == M_STORM ? 10000 :
		    opt.mode == M_CHURN ? 5000 : 200000;
	if (opt.rounds == 0)
		opt.rounds = opt.mode == M_CHURN || opt.mode == M_ACKED ?
		    1000 : 10;
	parse_ports(host, port);
	if (aport != NULL) {
		parse_addr(&opt.admin, host, aport);
		opt.have_admin = 1;
	}
	setup();
	rv = modes[opt.mode].run();
	close_all();
	return (stop ? EXIT_FAILED : rv);
}
