# libFuzzer target for /v2 infer (clang, -DLOSSD_FUZZ=ON); included from fuzz/fuzz.cmake.
# Run: build/fuzz_v2_binary fuzz/corpus/v2_binary
add_executable(fuzz_v2_binary fuzz/fuzz_v2_binary.c)
target_link_libraries(fuzz_v2_binary PRIVATE lossd_api)
target_compile_options(fuzz_v2_binary PRIVATE -fsanitize=fuzzer)
target_link_options(fuzz_v2_binary PRIVATE -fsanitize=fuzzer)
lossd_strict(fuzz_v2_binary)
