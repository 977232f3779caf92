/*
 * heartbeatd: holds long-lived TCP connections from many clients, drops
 * the ones that stop sending heartbeats, and lets an operator list and
 * push to them through an admin port. This file is the command line, the
 * signals and the event loop; the rest lives in the library.
 */

#include <sys/types.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "push.h"
#include "seen.h"
#include "store.h"
#include "tls.h"
#include "util.h"

static int	usage(FILE *);
static int	misuse(const char *, const char *);
static int	config_errors(char *);
static int	state_open(struct hb_config *);
static void	signal_stop_cb(evutil_socket_t, short, void *);
static void	signal_reload_cb(evutil_socket_t, short, void *);

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Prints the usage, with the options explained on stdout; returns 0. */
static int
usage(FILE *fp)
{
	fprintf(fp, "usage: heartbeatd [-c FILE] [-t] [-f] [-V] [-h]\n");
	if (fp == stdout)
		fprintf(fp,
		    "  -c FILE        config file (default %s)\n"
		    "  -t             test the config and exit\n"
		    "  -f             also log to stderr\n"
		    "  -V, --version  print the version and exit\n"
		    "  -h, --help     print this help and exit\n",
		    HB_CONFIG_FILE);
	return (0);
}

/* Says what is wrong with the command line, then the usage; returns 64. */
static int
misuse(const char *why, const char *what)
{
	fprintf(stderr, "heartbeatd: %s: %s\n", why, what);
	usage(stderr);
	return (EXIT_USAGE);
}

/* Prints each line of causes as an error, frees them; returns 78. */
static int
config_errors(char *causes)
{
	char	*line, *next = causes;

	while ((line = strsep(&next, "\n")) != NULL)
		fprintf(stderr, "heartbeatd: %s\n", line);
	free(causes);
	return (EXIT_CONFIG);
}

/*
 * Opens the state file and loads the registry and the pending pushes
 * from it. Returns 0, or -1 once it has said why the file cannot be used.
 */
static int
state_open(struct hb_config *conf)
{
	char	*cause;

	seen_configure(conf);
	if (store_open(conf, &cause) == 0 &&
	    store_load(seen_load, NULL, &cause) == 0 &&
	    push_start(&cause) == 0)
		return (0);
	fprintf(stderr, "heartbeatd: %s\n", cause);
	free(cause);
	store_close();
	push_stop();
	seen_free();
	return (-1);
}

static void
signal_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	daemon_stop("signal");
	event_base_loopbreak(hb_base);
}

/* SIGHUP: as the admin RELOAD; daemon_reload() logs the outcome. */
static void
signal_reload_cb(evutil_socket_t sig, short what, void *arg)
{
	char	*changed, *cause;

	if (daemon_reload(&changed, &cause) == -1)
		free(cause);
	else
		free(changed);
}

int
main(int argc, char *argv[])
{
	struct hb_config	*conf;
	struct event		*ev_term, *ev_int, *ev_hup;
	sigset_t		 stopped;
	const char		*path = HB_CONFIG_FILE;
	char			*cause;
	int			 ch, test_only = 0, to_stderr = 0;

	/* Messages of our own, which name heartbeatd rather than argv[0]. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:tfVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test_only = 1;
			break;
		case 'f':
			to_stderr = 1;
			break;
		case 'V':
			printf("heartbeatd %s\n", PACKAGE_VERSION);
			return (0);
		case 'h':
			return (usage(stdout));
		case ':':
			return (misuse("option requires an argument",
			    opt_refused(argv[optind - 1])));
		default:
			return (misuse("invalid option",
			    opt_refused(argv[optind - 1])));
		}
	}
	if (optind != argc)
		return (misuse("unexpected argument", argv[optind]));

	if ((conf = config_load(path, &cause)) == NULL)
		return (config_errors(cause));
	/* The TLS files are part of the config: -t loads them too. */
	if (tls_prepare(conf, &cause) == -1) {
		fprintf(stderr, "heartbeatd: %s\n", cause);
		free(cause);
		config_free(conf);
		return (EXIT_CONFIG);
	}
	tls_abort();
	if (test_only) {
		if (admin_check(conf, &cause) == -1 ||
		    store_check(conf, &cause) == -1) {
			config_free(conf);
			return (config_errors(cause));
		}
		printf("config ok: %s\n", path);
		config_free(conf);
		return (0);
	}

	signal(SIGPIPE, SIG_IGN);
	log_init("heartbeatd", to_stderr);
	/*
	 * libevent's clock is the coarse one on Linux, a few milliseconds
	 * off; client.c checks every deadline against the precise clock, and
	 * EVENT_BASE_FLAG_PRECISE_TIMER would cost a timerfd_settime() on
	 * every turn of the loop.
	 */
	if ((hb_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	log_set_base(hb_base);
	/* Before the start line, which tells a supervisor it may signal. */
	ev_term = evsignal_new(hb_base, SIGTERM, signal_stop_cb, NULL);
	ev_int = evsignal_new(hb_base, SIGINT, signal_stop_cb, NULL);
	ev_hup = evsignal_new(hb_base, SIGHUP, signal_reload_cb, NULL);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL)
		fatalx("evsignal_new");
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_hup, NULL);
	if (state_open(conf) == -1) {
		config_free(conf);
		return (EXIT_CONFIG);
	}
	if (daemon_start(conf, &cause) == -1) {
		fprintf(stderr, "heartbeatd: %s\n", cause);
		free(cause);
		store_close();
		push_stop();
		seen_free();
		return (EXIT_OSERR);
	}

	event_base_dispatch(hb_base);

	/*
	 * Stopped: a second SIGTERM or SIGINT must not kill the process
	 * while it frees what it holds, once its handlers are gone.
	 */
	sigemptyset(&stopped);
	sigaddset(&stopped, SIGTERM);
	sigaddset(&stopped, SIGINT);
	sigaddset(&stopped, SIGHUP);
	sigprocmask(SIG_BLOCK, &stopped, NULL);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	log_close();
	event_base_free(hb_base);
	config_free(hb_conf);
	return (0);
}
