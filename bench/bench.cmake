# Benchmarks (never run by ctest): `make bench`.
add_executable(bench_core bench/bench_core.c)
target_link_libraries(bench_core PRIVATE lossd_core_internal)
# The probe is the machine's ceiling: let the compiler use AVX2 for it (bench only).
target_compile_options(bench_core PRIVATE -O3 -mavx2 -mfma)
lossd_strict(bench_core)

# JSON decode against cJSON on the same text, and the /v1 handler without sockets.
if(TARGET lossd_api AND TARGET PkgConfig::CJSON)
  add_executable(bench_json bench/bench_json.c)
  target_link_libraries(bench_json PRIVATE lossd_api PkgConfig::CJSON)
  lossd_strict(bench_json)
endif()
