#ifndef CONFIG_H
#define CONFIG_H

#include "heartbeatd.h"

struct hb_config	*config_load(const char *, char **);
void			 config_free(struct hb_config *);
int			 config_diff(const struct hb_config *,
			    const struct hb_config *, char **);

#endif /* CONFIG_H */
