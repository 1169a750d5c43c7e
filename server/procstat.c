/* procstat: /proc/self/stat, /proc/self/fd, /proc/stat's btime and RLIMIT_NOFILE. Runs only
 * when /metrics is scraped: a few small reads, no state. */
#include "procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int procstat_parse_stat(const char *text, long ticks_per_s, size_t page, double boot_time,
                        procstat *out)
{
    /* Field 2 is "(comm)"; comm may contain ") ", so the last ')' ends it. */
    const char *p = strrchr(text, ')');
    long long v[21];
    if (p == NULL || ticks_per_s <= 0)
        return -1;
    p++;
    /* Field 3 is the state letter; 4 to 24 are numbers (some may be negative). */
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return -1;
    p++;
    for (int field = 4; field <= 24; field++) {
        char *end;
        v[field - 4] = strtoll(p, &end, 10);
        if (end == p)
            return -1;
        p = end;
    }
    for (int field = 14; field <= 24; field++)
        if (v[field - 4] < 0 && field != 18 && field != 19) /* only priority, nice go < 0 */
            return -1;
    /* utime 14, stime 15, starttime 22, vsize 23, rss 24 (pages) */
    out->cpu_seconds = (double)(v[14 - 4] + v[15 - 4]) / (double)ticks_per_s;
    out->start_time = boot_time + (double)v[22 - 4] / (double)ticks_per_s;
    out->virtual_bytes = (size_t)v[23 - 4];
    out->resident_bytes = (size_t)v[24 - 4] * page;
    return 0;
}

static int read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    size_t n;
    if (f == NULL)
        return -1;
    n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

static double boot_time(void)
{
    char line[256];
    double t = 0;
    FILE *f = fopen("/proc/stat", "re");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0)
            t = strtod(line + 6, NULL);
    if (f)
        fclose(f);
    return t;
}

static size_t count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;
    struct dirent *e;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* the directory stream's own descriptor */
}

int procstat_read(procstat *out)
{
    char text[1024];
    struct rlimit rl;
    memset(out, 0, sizeof *out);
    out->open_fds = count_fds();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (size_t)rl.rlim_cur;
    if (read_text("/proc/self/stat", text, sizeof text) != 0)
        return -1;
    return procstat_parse_stat(text, sysconf(_SC_CLK_TCK), (size_t)sysconf(_SC_PAGESIZE),
                               boot_time(), out);
}
