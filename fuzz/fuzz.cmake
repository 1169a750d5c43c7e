# libFuzzer targets: configure with -DLOSSD_FUZZ=ON -DCMAKE_C_COMPILER=clang
# -DCMAKE_CXX_COMPILER=clang++, then run e.g.
#   build-fuzz/fuzz_json_decode -max_total_time=60 fuzz/corpus-run fuzz/corpus/json_decode
if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "LOSSD_FUZZ needs clang (libFuzzer): -DCMAKE_C_COMPILER=clang")
endif()
# -fno-sanitize-recover: a UBSan finding stops the run like a crash instead of scrolling by.
set(LOSSD_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
# Instrument the code under test, not just the harness, so coverage guides the fuzzer.
foreach(lib lossd_core lossd_api)
  target_compile_options(${lib} PRIVATE ${LOSSD_FUZZ_FLAGS})
endforeach()

add_executable(fuzz_json_decode fuzz/fuzz_json_decode.c)
target_compile_options(fuzz_json_decode PRIVATE -fsanitize=fuzzer,address,undefined
                       -fno-sanitize-recover=all)
target_link_options(fuzz_json_decode PRIVATE -fsanitize=fuzzer,address,undefined
                    -fno-sanitize-recover=all)
target_link_libraries(fuzz_json_decode PRIVATE lossd_api)
lossd_strict(fuzz_json_decode)

# api/num.cpp's run reader against its one-number reader.
#   build-fuzz/fuzz_num_run -max_total_time=60 fuzz/corpus-run fuzz/corpus/num_run
add_executable(fuzz_num_run fuzz/fuzz_num_run.c)
target_compile_options(fuzz_num_run PRIVATE -fsanitize=fuzzer,address,undefined
                       -fno-sanitize-recover=all)
target_link_options(fuzz_num_run PRIVATE -fsanitize=fuzzer,address,undefined
                    -fno-sanitize-recover=all)
target_link_libraries(fuzz_num_run PRIVATE lossd_api)
lossd_strict(fuzz_num_run)

# /v2 infer: model name, Inference-Header-Content-Length and body (JSON + binary tail).
#   build-fuzz/fuzz_v2_binary -max_total_time=60 fuzz/corpus-run fuzz/corpus/v2_binary
add_executable(fuzz_v2_binary fuzz/fuzz_v2_binary.c)
target_compile_options(fuzz_v2_binary PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(fuzz_v2_binary PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(fuzz_v2_binary PRIVATE lossd_api)
lossd_strict(fuzz_v2_binary)

# Router and request-line helpers (what runs before any body is read).
#   build-fuzz/fuzz_router -max_total_time=60 fuzz/corpus-run fuzz/corpus/router
foreach(lib lossd_server)
  target_compile_options(${lib} PRIVATE ${LOSSD_FUZZ_FLAGS})
endforeach()
add_executable(fuzz_router fuzz/fuzz_router.c)
target_include_directories(fuzz_router PRIVATE server)
target_compile_options(fuzz_router PRIVATE -fsanitize=fuzzer,address,undefined
                       -fno-sanitize-recover=all)
target_link_options(fuzz_router PRIVATE -fsanitize=fuzzer,address,undefined
                    -fno-sanitize-recover=all)
target_link_libraries(fuzz_router PRIVATE lossd_server lossd_api lossd_core)
lossd_strict(fuzz_router)

# The scoring CLI's .npy and .csv/.tsv decoders (first byte picks the format).
#   build-fuzz/fuzz_tensor_file -max_total_time=60 fuzz/corpus-run fuzz/corpus/tensor_file
add_executable(fuzz_tensor_file fuzz/fuzz_tensor_file.c)
target_compile_options(fuzz_tensor_file PRIVATE -fsanitize=fuzzer,address,undefined
                       -fno-sanitize-recover=all)
target_link_options(fuzz_tensor_file PRIVATE -fsanitize=fuzzer,address,undefined
                    -fno-sanitize-recover=all)
target_link_libraries(fuzz_tensor_file PRIVATE lossd_api)
lossd_strict(fuzz_tensor_file)

# Core's cost model: random losses, shapes (zero and huge dims) and parameters; the plan-only
# pass allocates nothing and real runs stay within the cost it gave.
#   build-fuzz/fuzz_loss_cost -max_total_time=60 fuzz/corpus-run fuzz/corpus/loss_cost
add_executable(fuzz_loss_cost fuzz/fuzz_loss_cost.c)
target_compile_options(fuzz_loss_cost PRIVATE -fsanitize=fuzzer,address,undefined
                       -fno-sanitize-recover=all)
target_link_options(fuzz_loss_cost PRIVATE -fsanitize=fuzzer,address,undefined
                    -fno-sanitize-recover=all)
target_link_libraries(fuzz_loss_cost PRIVATE lossd_core)
lossd_strict(fuzz_loss_cost)

# The incremental JSON parser fed in random pieces against the one-shot parse.
#   build-fuzz/fuzz_json_stream -max_total_time=60 fuzz/corpus-run fuzz/corpus/json_stream
add_executable(fuzz_json_stream fuzz/fuzz_json_stream.c)
target_compile_options(fuzz_json_stream PRIVATE -fsanitize=fuzzer,address,undefined
                       -fno-sanitize-recover=all)
target_link_options(fuzz_json_stream PRIVATE -fsanitize=fuzzer,address,undefined
                    -fno-sanitize-recover=all)
target_link_libraries(fuzz_json_stream PRIVATE lossd_api)
lossd_strict(fuzz_json_stream)
