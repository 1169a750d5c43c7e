# The loss suites: one executable per family, test_losses_<family>, built from
# tests/core/losses/<family>/test_<name>.c of every `LOSS(family, name)` line in
# core/loss_list.h (read by core/losses/losses.cmake), plus the tests of the kernels a family
# shares, listed here. All link tests/core/golden.c, so LOSSD_TEST_ISA forces their ISA.
set(LOSSD_FAMILY_TESTS_detection tests/core/losses/detection/test_box.c)
set(LOSSD_FAMILY_TESTS_segmentation tests/core/losses/segmentation/test_overlap.c)

set(lossd_families ${LOSSD_LOSS_FAMILIES})
list(REMOVE_DUPLICATES lossd_families)
foreach(family IN LISTS lossd_families)
  set(sources ${LOSSD_FAMILY_TESTS_${family}})
  foreach(name of IN ZIP_LISTS LOSSD_LOSS_NAMES LOSSD_LOSS_FAMILIES)
    if(of STREQUAL family)
      list(APPEND sources tests/core/losses/${family}/test_${name}.c)
    endif()
  endforeach()
  lossd_test(test_losses_${family} SOURCES ${sources} tests/core/golden.c LIBS lossd_core_internal)
endforeach()

# Sweeps across the elementwise losses (random inputs, every ISA path, worker counts).
lossd_test(test_elementwise_sweeps SOURCES tests/core/losses/test_elementwise_sweeps.c
  tests/core/golden.c LIBS lossd_core_internal)
lossd_test(test_elementwise_generated SOURCES tests/core/losses/test_elementwise_generated.c
  tests/core/golden.c LIBS lossd_core_internal)
