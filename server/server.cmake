# lossd's HTTP layer (the only code that includes microhttpd.h) and the daemon binary.
include(server/web/web.cmake)
add_library(lossd_server STATIC
  server/admit.c
  server/assets.c
  server/budget.c
  server/config.c
  server/conn_guard.c
  server/daemon.c
  server/framing.c
  server/listener.c
  server/log.c
  server/metrics.c
  server/probe.c
  server/procstat.c
  server/score.c
  server/request.c
  server/routes.c
  server/trim.c)
target_include_directories(lossd_server PUBLIC server)
target_link_libraries(lossd_server PUBLIC lossd_api lossd_core PkgConfig::MHD
  PRIVATE lossd_assets_data ZLIB::ZLIB)
target_compile_definitions(lossd_server PRIVATE LOSSD_VERSION="${PROJECT_VERSION}")
lossd_strict(lossd_server)

add_executable(lossd server/main.c)
target_link_libraries(lossd PRIVATE lossd_server lossd_api lossd_core PkgConfig::MHD ${CMAKE_DL_LIBS})
# framing.c's MHD_queue_response must be in the dynamic symbol table so that libmicrohttpd's
# own error pages reach it (docs/decisions.md, "libmicrohttpd's error pages").
target_link_options(lossd PRIVATE -Wl,--export-dynamic-symbol=MHD_queue_response)
lossd_strict(lossd)
