# Criterion suites of the loss kernels, one per loss group.
lossd_test(test_seed_structured SOURCES tests/core/test_seed_structured.c tests/core/golden.c
           LIBS lossd_core)
