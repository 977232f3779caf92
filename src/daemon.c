/*
 * The running daemon as a whole: its event base and config, and the start
 * and stop that bring every listener up and every connection down.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "admin.h"
#include "client.h"
#include "config.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "registry.h"
#include "stats.h"
#include "util.h"

#define NAMES_MAX	4096	/* bytes of addresses in the start line */

struct event_base	*hb_base;
struct hb_config	*hb_conf;

/*
 * Takes conf, binds every listener and logs the start line. Returns 0, or
 * -1 with *cause when a socket cannot be bound.
 */
int
daemon_start(struct hb_config *conf, char **cause)
{
	char	 listen[NAMES_MAX], admin[NAMES_MAX];

	hb_conf = conf;
	log_configure(conf);
	stats.started = mono_ns();
	if (listener_open_all(&conf->listen, cause) == -1 ||
	    admin_open_all(conf, cause) == -1)
		return (-1);
	listener_names(listen, sizeof(listen));
	admin_names(admin, sizeof(admin));
	log_notice("start version=%s listen=%s admin=%s timeout=%g",
	    PACKAGE_VERSION, listen, admin, conf->heartbeat_timeout);
	return (0);
}

/*
 * Stops accepting, says BYE to every client and logs the stop line last,
 * with the number of clients connected when the stop began.
 */
void
daemon_stop(const char *reason)
{
	size_t	 n = registry_count();

	listener_close_all();
	admin_close_all();
	client_close_all(REASON_SHUTDOWN);
	log_notice("stop reason=%s clients=%zu", reason, n);
}
