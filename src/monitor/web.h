/* web.h — the dashboard's static files (web/), compiled into the binary so the monitor server can serve
 * them with nothing to install and nothing fetched at run time.
 *
 * The table and rtml_web_find() are generated at build time by cmake/web_assets.cmake (into the build
 * directory's generated/web_assets.c). Everything is static, read-only data: callers never free it. */
#ifndef RTML_WEB_H
#define RTML_WEB_H
#include <stddef.h>

typedef struct {
    const char *path;         /* URL path, e.g. "/dashboard.js" */
    const char *content_type; /* e.g. "text/javascript; charset=utf-8" */
    const unsigned char *data;
    size_t len;
} rtml_web_asset;

/* The dashboard file served at path ("/" is "/index.html"), or NULL. A query string ("?...") is ignored. */
const rtml_web_asset *rtml_web_find(const char *path);

#endif
