/* budget: one mutex-guarded counter of reserved bytes against a total, plus the cgroup
 * limit reader that gives the default total. Invariant: reserved + the cache's resident
 * bytes stay within total whenever a growth is granted (a grant first trims the cache);
 * reservations above BUDGET_SMALL never eat into the floor kept for small requests. */
#include "budget.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"

#define FLOOR_MAX ((size_t)64 << 20)

struct budget {
    pthread_mutex_t mu;
    size_t total, floor;
    atomic_size_t reserved; /* changed under mu; read without it for metrics */
};

budget *budget_create(size_t total)
{
    budget *b = mem_calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    b->total = total;
    b->floor = total / 8 < FLOOR_MAX ? total / 8 : FLOOR_MAX;
    return b;
}

void budget_destroy(budget *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->mu);
    mem_free(b);
}

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

size_t budget_request_bytes(budget_body kind, size_t body_len, size_t json_len)
{
    size_t json = kind == BUDGET_BODY_STREAMED_JSON ? body_len : json_len;
    size_t doc = json > SIZE_MAX / 4 ? SIZE_MAX : json * 4;
    size_t held = kind == BUDGET_BODY_BUFFERED ? body_len : 0;
    return add_sat(add_sat(held, doc), BUDGET_REQUEST_BASE);
}

size_t budget_ceiling(const budget *b, size_t bytes)
{
    if (b->total == 0)
        return 0;
    return bytes <= BUDGET_SMALL ? b->total : b->total - b->floor;
}

budget_status budget_resize(budget *b, size_t *held, size_t want)
{
    budget_status st = BUDGET_OK;
    if (want <= *held || b->total == 0) { /* a shrink, or no budget: only counted */
        pthread_mutex_lock(&b->mu);
        atomic_store_explicit(&b->reserved, b->reserved - *held + want, memory_order_relaxed);
        pthread_mutex_unlock(&b->mu);
        *held = want;
        return BUDGET_OK;
    }
    size_t ceiling = budget_ceiling(b, want), grow = want - *held;
    if (want > ceiling)
        return BUDGET_NEVER;
    pthread_mutex_lock(&b->mu);
    size_t room = ceiling > b->reserved ? ceiling - b->reserved : 0;
    if (grow > room) {
        st = BUDGET_BUSY;
    } else {
        /* The cache's resident blocks count too: drop them until the growth fits. */
        size_t free_bytes = b->total - b->reserved - grow;
        if (mem_cache_bytes() > free_bytes)
            (void)mem_cache_trim(free_bytes);
        atomic_store_explicit(&b->reserved, b->reserved + grow, memory_order_relaxed);
        *held = want;
    }
    pthread_mutex_unlock(&b->mu);
    return st;
}

void budget_release(budget *b, size_t *held)
{
    (void)budget_resize(b, held, 0);
}

size_t budget_total(const budget *b)
{
    return b->total;
}

size_t budget_reserved(const budget *b)
{
    return atomic_load_explicit(&b->reserved, memory_order_relaxed);
}

/* ---- the default: cgroup limit, else physical memory ---- */

size_t budget_parse_limit(const char *text)
{
    char *end;
    unsigned long long v;
    if (text == NULL || strncmp(text, "max", 3) == 0)
        return 0;
    v = strtoull(text, &end, 10);
    if (end == text || (*end != '\0' && *end != '\n'))
        return 0;
    /* cgroup v1 says "no limit" with a page-rounded LLONG_MAX */
    return v >= ((unsigned long long)1 << 60) ? 0 : (size_t)v;
}

static size_t read_limit(const char *path)
{
    char buf[64];
    FILE *f = fopen(path, "re");
    size_t n;
    if (f == NULL)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return budget_parse_limit(buf);
}

/* This process's cgroup path for a v2 ("0::") or v1 ("N:...memory...:") line of
 * /proc/self/cgroup, into out. Returns 0 or -1. */
static int own_path(int v2, char *out, size_t len)
{
    char line[512];
    int rc = -1;
    FILE *f = fopen("/proc/self/cgroup", "re");
    while (f && rc != 0 && fgets(line, sizeof line, f)) {
        char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        if (b == NULL)
            continue;
        *b = '\0';
        int match = v2 ? strcmp(a + 1, "") == 0 && strncmp(line, "0", 1) == 0
                       : strstr(a + 1, "memory") != NULL;
        if (!match)
            continue;
        b[1 + strcspn(b + 1, "\n")] = '\0';
        snprintf(out, len, "%s", b + 1);
        rc = 0;
    }
    if (f)
        fclose(f);
    return rc;
}

/* The smallest limit on the way from dir/path up to dir. */
static size_t walk_up(const char *dir, char *path, const char *file)
{
    char full[1024];
    size_t best = 0;
    for (;;) {
        snprintf(full, sizeof full, "%s%s/%s", dir, path, file);
        size_t v = read_limit(full);
        if (v != 0 && (best == 0 || v < best))
            best = v;
        char *slash = strrchr(path, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
    }
    return best;
}

static size_t cgroup_limit(const char *root)
{
    char path[512], dir[512];
    size_t v = 0;
    if (own_path(1, path, sizeof path) != 0)
        path[0] = '\0';
    if (strcmp(path, "/") == 0)
        path[0] = '\0';
    v = walk_up(root, path, "memory.max");
    if (v != 0)
        return v;
    if (own_path(0, path, sizeof path) != 0)
        path[0] = '\0';
    if (strcmp(path, "/") == 0)
        path[0] = '\0';
    snprintf(dir, sizeof dir, "%s/memory", root);
    return walk_up(dir, path, "memory.limit_in_bytes");
}

size_t budget_default(const char *root, const char **source)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t phys = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0;
    size_t limit = cgroup_limit(root ? root : "/sys/fs/cgroup");
    if (limit != 0 && (phys == 0 || limit < phys)) {
        *source = "80% of the cgroup memory limit";
        return limit / 10 * 8;
    }
    *source = "50% of physical memory";
    return phys / 2;
}
