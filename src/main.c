/*
 * heartbeatd: holds long-lived TCP connections from many clients, drops
 * the ones that stop sending heartbeats, and lets an operator list and
 * push to them through an admin port. This file is the command line, the
 * signals and the event loop; the rest lives in the library.
 */

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "tls.h"

static void	usage(FILE *);
static void	signal_stop_cb(evutil_socket_t, short, void *);
static void	signal_reload_cb(evutil_socket_t, short, void *);

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: heartbeatd [-c FILE] [-t] [-f] [-V] [-h]\n");
	if (fp == stdout)
		fprintf(fp,
		    "  -c FILE  config file (default %s)\n"
		    "  -t       test the config and exit\n"
		    "  -f       also log to stderr\n"
		    "  -V       print the version and exit\n"
		    "  -h       print this help and exit\n", HB_CONFIG_FILE);
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
	const char		*path = HB_CONFIG_FILE;
	char			*cause;
	int			 ch, test_only = 0, to_stderr = 0;

	while ((ch = getopt(argc, argv, "c:tfVh")) != -1) {
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
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (EXIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "heartbeatd: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		return (EXIT_USAGE);
	}

	if ((conf = config_load(path, &cause)) == NULL) {
		fprintf(stderr, "heartbeatd: %s\n", cause);
		free(cause);
		return (EXIT_CONFIG);
	}
	/* The TLS files are part of the config: -t loads them too. */
	if (tls_prepare(conf, &cause) == -1) {
		fprintf(stderr, "heartbeatd: %s\n", cause);
		free(cause);
		config_free(conf);
		return (EXIT_CONFIG);
	}
	tls_abort();
	if (test_only) {
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
	if (daemon_start(conf, &cause) == -1) {
		fprintf(stderr, "heartbeatd: %s\n", cause);
		return (EXIT_OSERR);
	}

	event_base_dispatch(hb_base);

	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	log_close();
	event_base_free(hb_base);
	config_free(hb_conf);
	return (0);
}
