# Criterion suites of the loss kernels, one line per group.
lossd_test(test_catalogue_elementwise SOURCES tests/core/test_catalogue_elementwise.c
  tests/core/golden.c LIBS lossd_core)
lossd_test(test_seed_structured SOURCES tests/core/test_seed_structured.c
  tests/core/golden.c LIBS lossd_core)
lossd_test(test_seed_elementwise SOURCES tests/core/test_seed_elementwise.c tests/core/golden.c
  LIBS lossd_core)
lossd_test(test_kern SOURCES tests/core/test_kern.c LIBS lossd_core)
lossd_test(test_catalogue_structured SOURCES tests/core/test_catalogue_structured.c
  tests/core/golden.c LIBS lossd_core)
lossd_test(test_registry_walk SOURCES tests/core/test_registry_walk.c tests/core/golden.c
  LIBS lossd_core)
lossd_test(test_vmath SOURCES tests/core/test_vmath.c LIBS lossd_core)
lossd_test(test_vmath_f32 SOURCES tests/core/test_vmath_f32.c LIBS lossd_core)
