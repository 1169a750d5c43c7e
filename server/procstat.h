/* procstat: the Prometheus process_* figures of this process, read from /proc (Linux):
 * resident and virtual memory, CPU seconds, open and maximum file descriptors, start time. */
#ifndef LOSSD_SERVER_PROCSTAT_H
#define LOSSD_SERVER_PROCSTAT_H

#include <stddef.h>

typedef struct {
    double cpu_seconds;    /* user + system */
    size_t resident_bytes; /* RSS */
    size_t virtual_bytes;  /* VSZ */
    size_t open_fds, max_fds;
    double start_time; /* seconds since the Unix epoch */
} procstat;

/* Parses the text of /proc/<pid>/stat (fields after the parenthesised command name, which
 * may itself hold spaces and ')'), with the clock tick rate, page size and boot time (seconds
 * since the epoch) to convert units. Returns 0, or -1 on malformed text. */
int procstat_parse_stat(const char *text, long ticks_per_s, size_t page, double boot_time,
                        procstat *out);

/* Reads this process's figures. Fields that cannot be read stay 0. Returns 0 when
 * /proc/self/stat was read, else -1. */
int procstat_read(procstat *out);

#endif
