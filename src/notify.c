/*
 * systemd notification. The watchdog is answered from a timer on the
 * event loop itself, so a stuck loop is what systemd sees, and the client
 * count goes out as STATUS at most once a second, only when it changed.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "stats.h"
#include "util.h"

#define STATUS_INTERVAL_SEC	1

#ifdef HAVE_LIBSYSTEMD
static void	notify_watchdog_cb(evutil_socket_t, short, void *);
static void	notify_status_cb(evutil_socket_t, short, void *);
static struct event *notify_every(uint64_t, event_callback_fn);

static struct event	*watchdog_ev;
static struct event	*status_ev;
static uint64_t		 status_clients = UINT64_MAX;

static struct event *
notify_every(uint64_t usec, event_callback_fn cb)
{
	struct event	*ev;
	struct timeval	 tv;

	if ((ev = event_new(hb_base, -1, EV_PERSIST, cb, NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	tv.tv_sec = usec / 1000000;
	tv.tv_usec = usec % 1000000;
	event_add(ev, &tv);
	return (ev);
}

/* Arms the watchdog and STATUS timers when systemd is listening. */
void
notify_start(void)
{
	uint64_t	 usec;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2)
		watchdog_ev = notify_every(usec / 2, notify_watchdog_cb);
	status_ev = notify_every(STATUS_INTERVAL_SEC * 1000000ULL,
	    notify_status_cb);
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

static void
notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	if (stats.clients == status_clients)
		return;
	status_clients = stats.clients;
	sd_notifyf(0, "STATUS=clients=%llu",
	    (unsigned long long)status_clients);
}

void
notify_ready(void)
{
	sd_notify(0, "READY=1");
}

/* MONOTONIC_USEC lets a Type=notify-reload manager match the reload. */
void
notify_reloading(void)
{
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)(mono_ns() / 1000));
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
notify_stop(void)
{
	if (watchdog_ev != NULL)
		event_free(watchdog_ev);
	if (status_ev != NULL)
		event_free(status_ev);
	watchdog_ev = status_ev = NULL;
}
#else
void
notify_start(void)
{
}

void
notify_ready(void)
{
}

void
notify_reloading(void)
{
}

void
notify_stopping(void)
{
}

void
notify_stop(void)
{
}
#endif /* HAVE_LIBSYSTEMD */
