# Benchmarks (never run by ctest): `make bench`.
add_executable(bench_core bench/bench_core.c)
target_link_libraries(bench_core PRIVATE lossd_core)
# The probe is the machine's ceiling: let the compiler use AVX2 for it (bench only).
target_compile_options(bench_core PRIVATE -O3 -mavx2 -mfma)
if(TARGET lossd_api AND TARGET PkgConfig::CJSON)
  add_executable(bench_json bench/bench_json.c)
  target_link_libraries(bench_json PRIVATE lossd_api PkgConfig::CJSON)
endif()
