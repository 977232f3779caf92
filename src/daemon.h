#ifndef DAEMON_H
#define DAEMON_H

struct event_base;
struct hb_config;

/* The running daemon's event base and config, shared by every module. */
extern struct event_base	*hb_base;
extern struct hb_config		*hb_conf;

/* Exit codes (sysexits.h) for startup failures. */
#define EXIT_USAGE	64
#define EXIT_OSERR	71
#define EXIT_CONFIG	78

int	 daemon_start(struct hb_config *, char **);
int	 daemon_reload(char **, char **);
void	 daemon_stop(const char *);

#endif /* DAEMON_H */
