# Criterion suites of the loss kernels, one line per group.
lossd_test(test_catalogue_elementwise SOURCES tests/core/test_catalogue_elementwise.c
  tests/core/golden.c LIBS lossd_core)
