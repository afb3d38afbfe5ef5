# The version lives in one place: project(ember VERSION ...) in the top CMakeLists.txt.
# include/ember/ember.h spells it out as EMBER_VERSION_* macros so that the header stays
# usable straight from the source tree (no generated header to find); this check makes
# configure fail when the two disagree, naming the lines to write. ember_version() and
# ember_version_number() return the header's macros, the CMake package version file and
# ember.pc use PROJECT_VERSION: all three therefore agree whenever the tree configures.
set(_ember_header ${PROJECT_SOURCE_DIR}/include/ember/ember.h)
file(STRINGS ${_ember_header} _ember_version_lines REGEX "^#define EMBER_VERSION_(MAJOR|MINOR|PATCH|STRING|NUMBER) ")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_ember_header})
math(EXPR _ember_number "${PROJECT_VERSION_MAJOR} * 1000000 + ${PROJECT_VERSION_MINOR} * 1000 + ${PROJECT_VERSION_PATCH}")
set(_ember_expected
  "#define EMBER_VERSION_MAJOR ${PROJECT_VERSION_MAJOR}"
  "#define EMBER_VERSION_MINOR ${PROJECT_VERSION_MINOR}"
  "#define EMBER_VERSION_PATCH ${PROJECT_VERSION_PATCH}"
  "#define EMBER_VERSION_STRING \"${PROJECT_VERSION}\""
  "#define EMBER_VERSION_NUMBER ${_ember_number}")
foreach(_line IN LISTS _ember_expected)
  list(FIND _ember_version_lines "${_line}" _found)
  if(_found EQUAL -1)
    list(JOIN _ember_expected "\n" _want)
    message(FATAL_ERROR "include/ember/ember.h does not match project(ember VERSION ${PROJECT_VERSION}): "
                        "its version block must read\n${_want}\n(docs/ABI.md, \"Versions\").")
  endif()
endforeach()
