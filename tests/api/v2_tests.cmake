# /v2 tests: binary framing units, the infer handler (worked example, outputs, refusals), and
# every golden fixture of every loss replayed over /v2 JSON and /v2 binary.
lossd_test(test_v2_binary SOURCES tests/api/test_v2_binary.c LIBS lossd_api)
lossd_test(test_v2 SOURCES tests/api/test_v2.c tests/api/v2_util.c LIBS lossd_api)
lossd_test(test_v2_malformed SOURCES tests/api/test_v2_malformed.c tests/api/v2_util.c
           LIBS lossd_api)
lossd_test(test_v2_golden SOURCES tests/api/test_v2_golden.c tests/api/v2_util.c LIBS lossd_api)
lossd_test(test_v2_metadata SOURCES tests/api/test_v2_metadata.c tests/api/v2_util.c
           LIBS lossd_api)
