/* assets_data: the table of embedded web files that the build generates (server/web/
 * embed.cmake). Private to server/assets.c. */
#ifndef LOSSD_SERVER_ASSETS_DATA_H
#define LOSSD_SERVER_ASSETS_DATA_H

#include <stddef.h>

typedef struct {
    const char *name;         /* under /assets/, e.g. "app.js" */
    const char *content_type; /* the Content-Type header */
    const char *etag;         /* quoted: a SHA-256 prefix of the file */
    const char *etag_gz;      /* the same with "-gz": the gzip representation's ETag */
    const unsigned char *gz;  /* gzip -9 -n of the file, static */
    size_t gz_len;
    size_t raw_len; /* the file's own size */
} assets_file;

extern const assets_file assets_files[];
extern const size_t assets_count;

#endif
