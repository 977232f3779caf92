/*
 * The dashboard page, served from the binary at GET /. A placeholder
 * until the page itself lands.
 */

#include <stddef.h>

#include "http.h"

const char	 dashboard_html[] =
    "<!doctype html><title>heartbeatd</title>";
const size_t	 dashboard_html_len = sizeof(dashboard_html) - 1;
