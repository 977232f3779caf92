/*
 * libFuzzer harness for the config loader: the input is the file. A
 * valid config is compared with the defaults both ways and with itself;
 * an invalid one must come with a cause that names the file.
 */

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "heartbeatd.h"

#include "fuzz_common.h"

static struct hb_config	*defaults;
static char		*path;
static int		 fd;

static void
check_diff(const struct hb_config *conf)
{
	char	*a, *b;
	int	 na, nb;

	na = config_diff(defaults, conf, &a);
	nb = config_diff(conf, defaults, &b);
	if (na != nb || (a == NULL) != (na == 0) || (b == NULL) != (nb == 0) ||
	    (a != NULL && strcmp(a, b) != 0))
		fuzz_fail("config_diff is not symmetric: %d \"%s\", %d \"%s\"",
		    na, a == NULL ? "" : a, nb, b == NULL ? "" : b);
	free(a);
	free(b);
	if (config_diff(conf, conf, &a) != 0 || a != NULL)
		fuzz_fail("a config differs from itself: \"%s\"", a);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	*cause;

	path = fuzz_temp_file("", 0, &fd);
	if ((defaults = config_load("/dev/null", &cause)) == NULL)
		fuzz_fail("defaults: %s", cause);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hb_config	*conf;
	char			*cause;

	fuzz_rewrite(fd, data, size);
	if ((conf = config_load(path, &cause)) == NULL) {
		if (cause == NULL || strncmp(cause, path, strlen(path)) != 0 ||
		    cause[strlen(path)] != ':')
			fuzz_fail("a cause that does not name the file: \"%s\"",
			    cause == NULL ? "(null)" : cause);
		free(cause);
		return (0);
	}
	if (strcmp(conf->path, path) != 0)
		fuzz_fail("config path \"%s\", not \"%s\"", conf->path, path);
	check_diff(conf);
	config_free(conf);
	return (0);
}
