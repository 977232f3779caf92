#ifndef NOTIFY_H
#define NOTIFY_H

/*
 * systemd's notify protocol (sd_notify): READY, RELOADING, STOPPING,
 * STATUS and the watchdog. Every call is a no-op without $NOTIFY_SOCKET
 * or when built without libsystemd.
 */
void	 notify_start(void);
void	 notify_ready(void);
void	 notify_reloading(void);
void	 notify_stopping(void);
void	 notify_stop(void);

#endif /* NOTIFY_H */
