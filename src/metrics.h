#ifndef METRICS_H
#define METRICS_H

struct hb_config;

int	 metrics_prepare(const struct hb_config *, char **);
void	 metrics_commit(const struct hb_config *);
void	 metrics_abort(void);
void	 metrics_close(void);

#endif /* METRICS_H */
