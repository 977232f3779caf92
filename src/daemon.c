/*
 * The running daemon as a whole: its event base and config, and the
 * start, reload and stop that bring every listener up, reconcile it and
 * bring every connection down.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "admin.h"
#include "client.h"
#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "history.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "pending.h"
#include "push.h"
#include "registry.h"
#include "seen.h"
#include "stats.h"
#include "store.h"
#include "tls.h"
#include "util.h"

#define NAMES_MAX	4096	/* bytes of addresses in the start line */

static int	daemon_prepare(const struct hb_config *, char **);
static void	daemon_commit(const struct hb_config *);

struct event_base	*hb_base;
struct hb_config	*hb_conf;

/*
 * Loads conf's TLS files and binds every socket conf adds to the running
 * set, of all three kinds. Returns 0, or -1 with *cause and nothing
 * changed.
 */
static int
daemon_prepare(const struct hb_config *conf, char **cause)
{
	if (tls_prepare(conf, cause) == -1)
		return (-1);
	if (listener_prepare(conf, cause) == -1) {
		tls_abort();
		return (-1);
	}
	if (admin_prepare(conf, cause) == -1) {
		listener_abort();
		tls_abort();
		return (-1);
	}
	if (http_prepare(conf, cause) == -1) {
		admin_abort();
		listener_abort();
		tls_abort();
		return (-1);
	}
	return (0);
}

/* Serves the prepared sockets, closes the dropped ones, applies conf. */
static void
daemon_commit(const struct hb_config *conf)
{
	tls_commit();
	listener_commit(conf);
	admin_commit(conf);
	http_commit(conf);
	log_configure(conf);
	events_configure(conf->watch_backlog);
	seen_configure(conf);
	push_reconfigure();
}

/*
 * Takes conf, binds every listener and logs the start line. Returns 0, or
 * -1 with *cause when a socket cannot be bound.
 */
int
daemon_start(struct hb_config *conf, char **cause)
{
	char	 listen[NAMES_MAX], tls[NAMES_MAX], admin[NAMES_MAX];

	hb_conf = conf;
	stats.started = mono_ns();
	if (daemon_prepare(conf, cause) == -1)
		return (-1);
	daemon_commit(conf);
	history_start();
	listener_names(listen, sizeof(listen));
	listener_tls_names(tls, sizeof(tls));
	admin_names(admin, sizeof(admin));
	log_notice("start version=%s listen=%s%s%s admin=%s timeout=%g",
	    PACKAGE_VERSION, listen, tls[0] != '\0' ? " tls=" : "", tls, admin,
	    conf->heartbeat_timeout);
	notify_start();
	notify_ready();
	return (0);
}

/*
 * Re-reads the config file, all or nothing. Returns 0 with *changed the
 * keys that changed (NULL: none), or -1 with *cause, one line: the first
 * error of the file. Both are logged.
 */
int
daemon_reload(char **changed, char **cause)
{
	struct hb_config	*conf, *old = hb_conf;

	*changed = NULL;
	notify_reloading();
	if ((conf = config_load(old->path, cause)) == NULL ||
	    store_reloadable(conf, cause) == -1 ||
	    daemon_prepare(conf, cause) == -1) {
		(*cause)[strcspn(*cause, "\n")] = '\0';
		config_free(conf);
		log_err("reload failed: %s", *cause);
		notify_ready();
		return (-1);
	}
	config_diff(old, conf, changed);
	hb_conf = conf;
	daemon_commit(conf);
	if (conf->heartbeat_timeout != old->heartbeat_timeout ||
	    conf->heartbeat_timeout_min != old->heartbeat_timeout_min ||
	    conf->heartbeat_timeout_max != old->heartbeat_timeout_max ||
	    conf->hello_timeout != old->hello_timeout)
		client_rearm_all();
	if (conf->hello_timeout != old->hello_timeout)
		pending_rearm();
	config_free(old);
	if (*changed == NULL)
		log_notice("reload ok unchanged");
	else
		log_notice("reload ok changed=%s", *changed);
	notify_ready();
	return (0);
}

/*
 * Stops accepting, says BYE to every client, writes the registry out and
 * logs the stop line last, with the number of clients connected when the
 * stop began.
 */
void
daemon_stop(const char *reason)
{
	size_t	 n = registry_count();

	notify_stopping();
	listener_close_all();
	admin_close_all();
	http_close();
	history_stop();
	pending_close_all();
	client_close_all(REASON_SHUTDOWN);
	store_close();
	push_stop();
	seen_free();
	log_notice("stop reason=%s clients=%zu", reason, n);
	notify_stop();
	events_free();
	tls_free();
}
