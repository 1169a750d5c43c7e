# Criterion test suites. Each test_* executable is one ctest entry.
pkg_check_modules(CRITERION REQUIRED IMPORTED_TARGET criterion)

# lossd_test(<name> <sources...> LIBS <libs...>)
function(lossd_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CRITERION PkgConfig::CJSON)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/core)
  target_compile_definitions(${name} PRIVATE
    LOSSD_SOURCE_DIR="${CMAKE_SOURCE_DIR}" LOSSD_BINARY_DIR="${CMAKE_BINARY_DIR}")
  lossd_strict(${name})
  add_test(NAME ${name} COMMAND ${name} --jobs 1)
endfunction()

lossd_test(test_pool SOURCES tests/core/test_pool.c LIBS lossd_core_internal)
lossd_test(test_registry_walk SOURCES tests/core/test_registry_walk.c tests/core/golden.c
  LIBS lossd_core_internal)
include(tests/core/losses/losses_tests.cmake)
include(tests/core/kernels.cmake)
include(tests/api/api_tests.cmake)
include(tests/http/http_tests.cmake)
add_test(NAME readme_examples COMMAND ${CMAKE_SOURCE_DIR}/tests/readme/check_readme_examples.sh
  $<TARGET_FILE:lossd> ${CMAKE_SOURCE_DIR}/README.md)
add_test(NAME deploy_manifests COMMAND /usr/bin/python3
  ${CMAKE_SOURCE_DIR}/tests/deploy/check_manifests.py $<TARGET_FILE:lossd>)
# The /v2 example clients (Python + numpy, Node, curl) against a live daemon.
add_test(NAME v2_examples COMMAND ${CMAKE_SOURCE_DIR}/tests/examples/run_examples.sh
  $<TARGET_FILE:lossd>)
