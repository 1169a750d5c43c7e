# /v2 (Open Inference Protocol, JSON and Triton's binary tensor data) sources of lossd_api.
# Included from api/api.cmake once the lossd_api target exists.
target_sources(lossd_api PRIVATE
  api/v2.c
  api/v2_binary.c
  api/v2_decode.c
  api/v2_encode.c)
# GET /v2 reports the project version.
set_source_files_properties(api/v2.c PROPERTIES
  COMPILE_DEFINITIONS "LOSSD_VERSION=\"${PROJECT_VERSION}\"")
