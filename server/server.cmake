# lossd's HTTP layer (the only code that includes microhttpd.h) and the daemon binary.
add_library(lossd_server STATIC
  server/config.c
  server/daemon.c
  server/log.c
  server/metrics.c
  server/probe.c
  server/request.c
  server/routes.c)
target_include_directories(lossd_server PUBLIC server)
target_link_libraries(lossd_server PUBLIC lossd_api lossd_core PkgConfig::MHD)
target_compile_definitions(lossd_server PRIVATE LOSSD_VERSION="${PROJECT_VERSION}")
lossd_strict(lossd_server)

add_executable(lossd server/main.c)
target_link_libraries(lossd PRIVATE lossd_server lossd_api lossd_core PkgConfig::MHD)
lossd_strict(lossd)
