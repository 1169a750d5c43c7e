# api: JSON decode/encode and the /v1 handlers (no sockets). Included by the top CMakeLists.
add_library(lossd_api STATIC
  api/arena.c
  api/num.cpp
  api/json_doc.c
  api/jbuf.c
  api/utf8.c
  api/error.c
  api/decode_v1.c
  api/encode.c
  api/cost.c
  api/v1.c
  api/stream.c
  api/reserve.c
  api/catalogue.c)
target_include_directories(lossd_api PUBLIC api)
target_link_libraries(lossd_api PUBLIC lossd_core)
# num.cpp is the only C++: no exceptions or RTTI are needed behind its C interface. It gets the
# strict warnings through lossd_strict like the C files.
set_source_files_properties(api/num.cpp PROPERTIES COMPILE_OPTIONS "-fno-exceptions;-fno-rtti")
lossd_strict(lossd_api)
include(api/v2.cmake)
# File formats of the scoring CLI (`lossd score`): .npy and delimited text.
target_sources(lossd_api PRIVATE api/npy.c api/csv.c api/local.c)
