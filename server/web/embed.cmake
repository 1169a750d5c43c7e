# Generates the C file that embeds lossd's web assets (cmake -P, run at build time).
# In: MANIFEST, a file of `set(ASSETS "name|file" ...)`; OUT, the C file; GZ_DIR.
# Each file is stored gzip -9 -n compressed (no name or time stamp: the same input gives the
# same bytes) through .incbin, with its SHA-256 for the ETag and its size for the inflate.
include(${MANIFEST})
set(type_html "text/html; charset=utf-8")
set(type_css "text/css; charset=utf-8")
set(type_js "text/javascript; charset=utf-8")
set(type_txt "text/plain; charset=utf-8")
set(type_yaml "application/yaml; charset=utf-8")
set(type_json "application/json")
file(MAKE_DIRECTORY ${GZ_DIR})
set(asm "")
set(rows "")
set(decls "")
set(i 0)
foreach(asset IN LISTS ASSETS)
  string(REPLACE "|" ";" parts "${asset}")
  list(GET parts 0 name)
  list(GET parts 1 path)
  string(REGEX MATCH "[^.]*$" ext "${name}")
  if(NOT DEFINED type_${ext})
    message(FATAL_ERROR "no Content-Type for ${name}")
  endif()
  set(type "${type_${ext}}")
  set(gz ${GZ_DIR}/${name}.gz)
  execute_process(COMMAND gzip -9 -n -c ${path} OUTPUT_FILE ${gz} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${path} failed")
  endif()
  file(SHA256 ${path} sha)
  string(SUBSTRING ${sha} 0 20 tag)
  file(SIZE ${path} raw_len)
  file(SIZE ${gz} gz_len)
  string(APPEND asm "    \".balign 16\\n\"\n    \"lossd_asset_${i}:\\n\"\n"
                    "    \".incbin \\\"${gz}\\\"\\n\"\n")
  string(APPEND decls "extern const unsigned char lossd_asset_${i}[];\n")
  string(APPEND rows "    {\"${name}\", \"${type}\", \"\\\"${tag}\\\"\", \"\\\"${tag}-gz\\\"\", "
                     "lossd_asset_${i}, ${gz_len}u, ${raw_len}u},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT} "/* Generated at build time by server/web/embed.cmake: do not edit. */
#include \"assets_data.h\"

/* The gzip streams, in read-only data; the labels are local to this object. */
__asm__(\".section .rodata\\n\"
${asm}    \".previous\\n\");

${decls}
const assets_file assets_files[] = {
${rows}};
const size_t assets_count = ${i};
")
