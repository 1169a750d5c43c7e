# lossd's HTTP layer (the only code that includes microhttpd.h) and the daemon binary.
add_library(lossd_server STATIC
  server/admit.c
  server/budget.c
  server/config.c
  server/daemon.c
  server/log.c
  server/metrics.c
  server/probe.c
  server/procstat.c
  server/request.c
  server/routes.c
  server/trim.c)
target_include_directories(lossd_server PUBLIC server)
target_link_libraries(lossd_server PUBLIC lossd_api lossd_core PkgConfig::MHD)
target_compile_definitions(lossd_server PRIVATE LOSSD_VERSION="${PROJECT_VERSION}")
lossd_strict(lossd_server)
# The /v2 (Open Inference Protocol) routes are wired once the api layer implements them:
# api.cmake sets LOSSD_API_V2, or has api/v2.c. Until then /v2 answers only health.
if(LOSSD_API_V2 OR EXISTS ${CMAKE_SOURCE_DIR}/api/v2.c)
  target_compile_definitions(lossd_server PRIVATE LOSSD_HAVE_V2=1)
endif()

add_executable(lossd server/main.c)
target_include_directories(lossd PRIVATE ${CBLAS_INCLUDE})
target_link_libraries(lossd PRIVATE lossd_server lossd_api lossd_core PkgConfig::MHD)
lossd_strict(lossd)
