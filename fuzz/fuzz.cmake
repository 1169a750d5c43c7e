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

# One harness with libFuzzer's main, under ASan and UBSan, stopping at the first finding;
# linked against the libraries that follow its name.
function(lossd_fuzz_target name)
  add_executable(${name} fuzz/${name}.c)
  set(flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
  target_compile_options(${name} PRIVATE ${flags})
  target_link_options(${name} PRIVATE ${flags})
  target_link_libraries(${name} PRIVATE ${ARGN})
  lossd_strict(${name})
endfunction()

lossd_fuzz_target(fuzz_json_decode lossd_api)

# api/num.cpp's run reader against its one-number reader.
#   build-fuzz/fuzz_num_run -max_total_time=60 fuzz/corpus-run fuzz/corpus/num_run
lossd_fuzz_target(fuzz_num_run lossd_api)

# /v2 infer: model name, Inference-Header-Content-Length and body (JSON + binary tail).
#   build-fuzz/fuzz_v2_binary -max_total_time=60 fuzz/corpus-run fuzz/corpus/v2_binary
lossd_fuzz_target(fuzz_v2_binary lossd_api)

# Router and request-line helpers (what runs before any body is read).
#   build-fuzz/fuzz_router -max_total_time=60 fuzz/corpus-run fuzz/corpus/router
foreach(lib lossd_server)
  target_compile_options(${lib} PRIVATE ${LOSSD_FUZZ_FLAGS})
endforeach()
lossd_fuzz_target(fuzz_router lossd_server lossd_api lossd_core)
target_include_directories(fuzz_router PRIVATE server)

# The scoring CLI's .npy and .csv/.tsv decoders (first byte picks the format).
#   build-fuzz/fuzz_tensor_file -max_total_time=60 fuzz/corpus-run fuzz/corpus/tensor_file
lossd_fuzz_target(fuzz_tensor_file lossd_api)

# Core's cost model: random losses, shapes (zero and huge dims) and parameters; the plan-only
# pass allocates nothing and real runs stay within the cost it gave.
#   build-fuzz/fuzz_loss_cost -max_total_time=60 fuzz/corpus-run fuzz/corpus/loss_cost
lossd_fuzz_target(fuzz_loss_cost lossd_core)

# The incremental JSON parser fed in random pieces against the one-shot parse.
#   build-fuzz/fuzz_json_stream -max_total_time=60 fuzz/corpus-run fuzz/corpus/json_stream
lossd_fuzz_target(fuzz_json_stream lossd_api)
