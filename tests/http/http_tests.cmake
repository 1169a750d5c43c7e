# HTTP tests: unit tests of the socket-free server modules, and end-to-end suites that run
# the real lossd binary as a child process (one per test) and talk HTTP/1.1 to it.

lossd_test(test_server_config SOURCES tests/http/test_server_config.c LIBS lossd_server)
lossd_test(test_server_request SOURCES tests/http/test_server_request.c LIBS lossd_server)
lossd_test(test_server_log SOURCES tests/http/test_server_log.c LIBS lossd_server)
lossd_test(test_server_framing SOURCES tests/http/test_server_framing.c LIBS lossd_server)

foreach(suite test_http_routes test_http_limits test_http_v1 test_http_v2 test_http_names
    test_http_cost test_http_conns test_http_framing test_http_lifecycle test_http_memory)
  lossd_test(${suite} SOURCES tests/http/${suite}.c tests/http/http_client.c LIBS)
  add_dependencies(${suite} lossd)
endforeach()

lossd_test(test_http_ops SOURCES tests/http/test_http_ops.c tests/http/http_client.c
  LIBS PkgConfig::CJSON)
add_dependencies(test_http_ops lossd)

# The pages for people: the embedded files (unit), the routes over HTTP, and every example in
# api/openapi.yaml against a live daemon.
lossd_test(test_server_assets SOURCES tests/http/test_server_assets.c LIBS lossd_server ZLIB::ZLIB)
add_dependencies(test_server_assets lossd)
lossd_test(test_http_web SOURCES tests/http/test_http_web.c tests/http/http_client.c LIBS)
add_dependencies(test_http_web lossd)
add_test(NAME spec_examples COMMAND /usr/bin/python3
  ${CMAKE_SOURCE_DIR}/tests/web/check_spec_examples.py $<TARGET_FILE:lossd>
  ${CMAKE_SOURCE_DIR}/api/openapi.yaml)

# /metrics through a real Prometheus parser (Debian's python3-prometheus-client), every
# series documented in docs/operations.md.
add_test(NAME metrics_prometheus COMMAND /usr/bin/python3
  ${CMAKE_SOURCE_DIR}/tests/http/check_metrics.py $<TARGET_FILE:lossd>
  ${CMAKE_SOURCE_DIR}/docs/operations.md)
