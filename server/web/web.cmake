# lossd's web page, /docs and the OpenAPI spec, embedded in the binary at build time.
# Sources: server/web/ (our page) and server/web/vendor/ (Swagger UI, committed as npm ships
# it; server/web/vendor.sh re-vendors or checks it against package-lock.json). The build needs
# no npm and no network: gzip (always on Debian) compresses, python3-yaml turns the spec into
# JSON, and embed.cmake writes a C file that .incbin's the compressed bytes.
find_program(LOSSD_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(LOSSD_PYTHON3 NAMES python3 REQUIRED)
find_program(LOSSD_GZIP gzip REQUIRED)
find_package(ZLIB REQUIRED)

set(LOSSD_WEB ${CMAKE_SOURCE_DIR}/server/web)
set(LOSSD_WEB_OUT ${CMAKE_BINARY_DIR}/web)
# name under /assets/ | file (the name's extension gives the Content-Type)
set(LOSSD_WEB_ASSETS
  "index.html|${LOSSD_WEB}/index.html"
  "app.css|${LOSSD_WEB}/app.css"
  "app.js|${LOSSD_WEB}/app.js"
  "plot.js|${LOSSD_WEB}/plot.js"
  "losses.js|${LOSSD_WEB}/losses.js"
  "docs.html|${LOSSD_WEB}/docs.html"
  "docs.js|${LOSSD_WEB}/docs.js"
  "swagger-ui-bundle.js|${LOSSD_WEB}/vendor/swagger-ui-bundle.js"
  "swagger-ui.css|${LOSSD_WEB}/vendor/swagger-ui.css"
  "swagger-ui-LICENSE.txt|${LOSSD_WEB}/vendor/LICENSE"
  "openapi.yaml|${CMAKE_SOURCE_DIR}/api/openapi.yaml"
  "openapi.json|${LOSSD_WEB_OUT}/openapi.json")

set(deps ${LOSSD_WEB}/embed.cmake)
foreach(asset IN LISTS LOSSD_WEB_ASSETS)
  string(REPLACE "|" ";" parts "${asset}")
  list(GET parts 1 path)
  list(APPEND deps ${path})
endforeach()
set(quoted "")
foreach(asset IN LISTS LOSSD_WEB_ASSETS)
  string(APPEND quoted " \"${asset}\"")
endforeach()
file(CONFIGURE OUTPUT ${LOSSD_WEB_OUT}/manifest.cmake CONTENT "set(ASSETS${quoted})\n")

add_custom_command(OUTPUT ${LOSSD_WEB_OUT}/openapi.json
  COMMAND ${LOSSD_PYTHON3} ${LOSSD_WEB}/openapi_json.py ${CMAKE_SOURCE_DIR}/api/openapi.yaml
          ${LOSSD_WEB_OUT}/openapi.json
  DEPENDS ${CMAKE_SOURCE_DIR}/api/openapi.yaml ${LOSSD_WEB}/openapi_json.py
  COMMENT "openapi.yaml -> openapi.json" VERBATIM)
add_custom_command(OUTPUT ${LOSSD_WEB_OUT}/assets_data.c
  COMMAND ${CMAKE_COMMAND} -DMANIFEST=${LOSSD_WEB_OUT}/manifest.cmake
          -DOUT=${LOSSD_WEB_OUT}/assets_data.c -DGZ_DIR=${LOSSD_WEB_OUT}/gz
          -P ${LOSSD_WEB}/embed.cmake
  DEPENDS ${deps} ${LOSSD_WEB_OUT}/manifest.cmake
  COMMENT "Embedding the web assets" VERBATIM)

# The generated file is data, not our code: no strict warnings on it.
add_library(lossd_assets_data STATIC ${LOSSD_WEB_OUT}/assets_data.c)
target_include_directories(lossd_assets_data PRIVATE ${CMAKE_SOURCE_DIR}/server)
