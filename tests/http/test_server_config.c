/* Unit tests of server/config.c: strict numbers, size suffixes, cgroup quota arithmetic,
 * flag/environment precedence and the errors that make lossd exit 2. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

static config_outcome load(server_config *cfg, int argc, const char **argv)
{
    char err[256];
    return config_load(cfg, argc, (char **)(uintptr_t)argv, err, sizeof err);
}

Test(config, uint_parsing_should_be_strict)
{
    size_t v;
    cr_assert_eq(config_parse_uint("8080", 65535, &v), 0);
    cr_assert_eq(v, 8080);
    cr_assert_eq(config_parse_uint("0", 10, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(config_parse_uint("", 10, &v), -1);
    cr_assert_eq(config_parse_uint("-1", 10, &v), -1);
    cr_assert_eq(config_parse_uint("+1", 10, &v), -1);
    cr_assert_eq(config_parse_uint(" 1", 10, &v), -1);
    cr_assert_eq(config_parse_uint("1 ", 10, &v), -1);
    cr_assert_eq(config_parse_uint("0x10", 100, &v), -1);
    cr_assert_eq(config_parse_uint("11", 10, &v), -1);
    cr_assert_eq(config_parse_uint("18446744073709551616", SIZE_MAX, &v), -1, "overflow");
}

Test(config, size_suffixes_should_be_binary_multiples)
{
    size_t v;
    cr_assert_eq(config_parse_size("64M", SIZE_MAX, &v), 0);
    cr_assert_eq(v, (size_t)64 << 20);
    cr_assert_eq(config_parse_size("256k", SIZE_MAX, &v), 0);
    cr_assert_eq(v, (size_t)256 << 10);
    cr_assert_eq(config_parse_size("1GiB", SIZE_MAX, &v), 0);
    cr_assert_eq(v, (size_t)1 << 30);
    cr_assert_eq(config_parse_size("2MB", SIZE_MAX, &v), 0);
    cr_assert_eq(v, (size_t)2 << 20);
    cr_assert_eq(config_parse_size("1000", SIZE_MAX, &v), 0);
    cr_assert_eq(v, 1000);
    cr_assert_eq(config_parse_size("1Q", SIZE_MAX, &v), -1);
    cr_assert_eq(config_parse_size("M", SIZE_MAX, &v), -1);
    cr_assert_eq(config_parse_size("1Mx", SIZE_MAX, &v), -1);
    cr_assert_eq(config_parse_size("2K", 2047, &v), -1, "over the maximum");
    cr_assert_eq(config_parse_size("99999999999T", SIZE_MAX, &v), -1, "overflow");
}

Test(config, cgroup_v2_cpu_max_should_round_up)
{
    cr_assert_eq(config_cpus_from_cpu_max("max 100000\n"), 0);
    cr_assert_eq(config_cpus_from_cpu_max("150000 100000\n"), 2);
    cr_assert_eq(config_cpus_from_cpu_max("100000 100000"), 1);
    cr_assert_eq(config_cpus_from_cpu_max("50000 100000\n"), 1);
    cr_assert_eq(config_cpus_from_cpu_max("400000 100000\n"), 4);
    cr_assert_eq(config_cpus_from_cpu_max("garbage"), 0);
    cr_assert_eq(config_cpus_from_cpu_max("100000"), 0);
}

Test(config, cgroup_v1_quota_should_round_up_and_ignore_minus_one)
{
    cr_assert_eq(config_cpus_from_cfs(-1, 100000), 0);
    cr_assert_eq(config_cpus_from_cfs(250000, 100000), 3);
    cr_assert_eq(config_cpus_from_cfs(100000, 0), 0);
}

Test(config, default_workers_should_be_at_least_one_and_at_most_the_affinity)
{
    size_t n = config_default_workers();
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cr_assert_geq(n, 1);
    cr_assert_leq(n, (size_t)online);
}

Test(config, defaults_should_match_the_documentation)
{
    server_config cfg;
    unsetenv("LOSSD_PORT");
    unsetenv("LOSSD_MAX_BODY");
    cr_assert_eq(load(&cfg, 1, (const char *[]){"lossd", NULL}), CONFIG_RUN);
    cr_assert_eq(cfg.port, 8080);
    cr_assert_str_eq(cfg.bind, "0.0.0.0");
    cr_assert_eq(cfg.max_body, (size_t)64 << 20);
    cr_assert_eq(cfg.http_threads, config_default_workers() > 1 ? 2u : 1u);
    cr_assert_eq(cfg.queue, 64);
    cr_assert_eq(cfg.conn_timeout, 60);
    cr_assert_eq(cfg.max_connections, 1024);
    cr_assert_eq(cfg.conn_memory, (size_t)32 << 10);
    cr_assert_eq(cfg.drain_timeout, 30);
    cr_assert_eq(cfg.shutdown_delay, 0);
    cr_assert_eq(cfg.job_timeout, 30);
    cr_assert_eq(cfg.inline_max, (size_t)4 << 10);
    cr_assert_eq(cfg.workers, config_default_workers());
    cr_assert_str_eq(cfg.log_format, "text");
    cr_assert_null(cfg.api_key);
    cr_assert_null(cfg.isa);
}

Test(config, flags_should_override_the_environment)
{
    server_config cfg;
    setenv("LOSSD_PORT", "9000", 1);
    setenv("LOSSD_MAX_BODY", "1M", 1);
    cr_assert_eq(load(&cfg, 3, (const char *[]){"lossd", "--port=9100", "--isa", NULL}),
                 CONFIG_EXIT_USAGE, "--isa without a value");
    cr_assert_eq(load(&cfg, 4, (const char *[]){"lossd", "--port=9100", "--isa", "ref", NULL}),
                 CONFIG_RUN);
    cr_assert_eq(cfg.port, 9100);
    cr_assert_eq(cfg.max_body, (size_t)1 << 20);
    cr_assert_str_eq(cfg.isa, "ref");
    unsetenv("LOSSD_PORT");
    unsetenv("LOSSD_MAX_BODY");
}

Test(config, tls_cert_without_key_should_be_a_usage_error)
{
    server_config cfg;
    cr_assert_eq(load(&cfg, 3, (const char *[]){"lossd", "--tls-cert", "c.pem", NULL}),
                 CONFIG_EXIT_USAGE);
}

Test(config, empty_api_key_should_mean_no_authentication)
{
    server_config cfg;
    cr_assert_eq(load(&cfg, 2, (const char *[]){"lossd", "--api-key=", NULL}), CONFIG_RUN);
    cr_assert_null(cfg.api_key);
}

Test(config, unknown_flag_and_positional_arguments_should_be_usage_errors)
{
    server_config cfg;
    cr_assert_eq(load(&cfg, 2, (const char *[]){"lossd", "--nope", NULL}), CONFIG_EXIT_USAGE);
    cr_assert_eq(load(&cfg, 2, (const char *[]){"lossd", "serve", NULL}), CONFIG_EXIT_USAGE);
    cr_assert_eq(load(&cfg, 3, (const char *[]){"lossd", "--workers", "0", NULL}),
                 CONFIG_EXIT_USAGE);
}
