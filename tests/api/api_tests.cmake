# api tests: decoder, number conversion, /v1 handlers end to end, golden fixtures via /v1.
lossd_test(test_json_doc SOURCES tests/api/test_json_doc.c LIBS lossd_api)
lossd_test(test_num SOURCES tests/api/test_num.c tests/api/num_reference.cpp LIBS lossd_api)
lossd_test(test_v1 SOURCES tests/api/test_v1.c tests/api/api_helpers.c
           LIBS lossd_api PkgConfig::CJSON)
lossd_test(test_golden_api SOURCES tests/api/test_golden_api.c LIBS lossd_api PkgConfig::CJSON)
lossd_test(test_decode_v1 SOURCES tests/api/test_decode_v1.c LIBS lossd_api)
lossd_test(test_openapi SOURCES tests/api/test_openapi.c LIBS lossd_api)
include(tests/api/v2_tests.cmake)
lossd_test(test_tensor_files SOURCES tests/api/test_tensor_files.c LIBS lossd_api)
