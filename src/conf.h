/*
 * The API of config.c. Not named config.h, so that it is never taken for
 * autoconf's generated header.
 */

#ifndef CONF_H
#define CONF_H

#include "heartbeatd.h"

struct hb_config	*config_load(const char *, char **);
void			 config_free(struct hb_config *);
int			 config_diff(const struct hb_config *,
			    const struct hb_config *, char **);

#endif /* CONF_H */
