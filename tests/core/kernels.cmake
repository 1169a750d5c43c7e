# Criterion suites of the ISA kernels and vector math.
lossd_test(test_kern SOURCES tests/core/test_kern.c LIBS lossd_core_internal)
lossd_test(test_vmath SOURCES tests/core/test_vmath.c LIBS lossd_core_internal)
lossd_test(test_loss_cost SOURCES tests/core/test_loss_cost.c tests/core/golden.c
  LIBS lossd_core_internal)
lossd_test(test_vmath_f32 SOURCES tests/core/test_vmath_f32.c LIBS lossd_core_internal)
