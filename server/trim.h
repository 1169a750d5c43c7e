/* trim: hands memory back to the system once the server idles, so a burst of large requests
 * does not leave the process holding its peak for ever: after `idle_s` seconds with no
 * request in flight it empties the buffer cache and asks malloc to return its free pages.
 * It also fixes malloc's mmap threshold, so that large buffers are mapped and unmapped
 * rather than kept in the heap after a burst. */
#ifndef LOSSD_SERVER_TRIM_H
#define LOSSD_SERVER_TRIM_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct trimmer trimmer;

/* Starts the trimming thread; in_flight is the daemon's count of requests in progress
 * (borrowed: it must outlive the trimmer). idle_s 0 disables trimming (no thread). Returns
 * NULL on failure (or when disabled). */
trimmer *trimmer_start(size_t idle_s, atomic_size_t *in_flight);

/* Notes that a request ended (cheap: one relaxed atomic add). Accepts NULL. */
void trimmer_touch(trimmer *t);

/* Trims now, whatever the load: empties the buffer cache and returns malloc's free pages.
 * Returns the bytes the cache held. */
size_t trim_now(void);

/* Stops and frees the trimmer. Accepts NULL. */
void trimmer_stop(trimmer *t);

#endif
