# Criterion suites of the loss kernels, one per group.
lossd_test(test_catalogue_structured SOURCES tests/core/test_catalogue_structured.c
  tests/core/golden.c LIBS lossd_core)
