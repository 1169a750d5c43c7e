# The loss sources, derived from core/loss_list.h: each `LOSS(family, name)` line there is
# built from core/losses/<family>/<name>.c. Only the helpers shared by several losses of a
# family are listed here by hand. Sets LOSSD_LOSS_SOURCES, and LOSSD_LOSS_NAMES and
# LOSSD_LOSS_FAMILIES (parallel lists, catalogue order) for the test suites.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/core/loss_list.h)
file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/core/loss_list.h LOSSD_LOSS_LINES REGEX "^LOSS\\(")
set(LOSSD_LOSS_NAMES)
set(LOSSD_LOSS_FAMILIES)
set(LOSSD_LOSS_SOURCES
  core/losses/classification/class_layout.c
  core/losses/detection/box.c)
foreach(line IN LISTS LOSSD_LOSS_LINES)
  if(NOT line MATCHES "^LOSS\\(([a-z]+), ([a-z0-9_]+)\\)$")
    message(FATAL_ERROR "core/loss_list.h: '${line}' is not LOSS(family, name)")
  endif()
  list(APPEND LOSSD_LOSS_FAMILIES ${CMAKE_MATCH_1})
  list(APPEND LOSSD_LOSS_NAMES ${CMAKE_MATCH_2})
  list(APPEND LOSSD_LOSS_SOURCES core/losses/${CMAKE_MATCH_1}/${CMAKE_MATCH_2}.c)
endforeach()
