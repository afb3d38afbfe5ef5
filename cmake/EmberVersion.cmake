# The version lives in one place: project(ember VERSION ...) in the top CMakeLists.txt. This
# generates the header's EMBER_VERSION_* macros from it, as <build>/include/ember/
# ember_version.h (included by ember.h, installed next to it), so nothing can disagree:
# ember_version() and ember_version_number() return those macros as compiled into the
# library, and the CMake package version file and ember.pc use PROJECT_VERSION.
# EMBER_GENERATED_INCLUDE_DIR is the include directory holding it; every target of the tree
# gets it (include_directories in the top CMakeLists.txt).
if(PROJECT_VERSION_MAJOR GREATER 2146 OR PROJECT_VERSION_MINOR GREATER 999 OR PROJECT_VERSION_PATCH GREATER 999)
  message(FATAL_ERROR "project(ember VERSION ${PROJECT_VERSION}): EMBER_VERSION_NUMBER = "
                      "MAJOR*1000000 + MINOR*1000 + PATCH needs MINOR and PATCH below 1000")
endif()
math(EXPR EMBER_VERSION_NUMBER "${PROJECT_VERSION_MAJOR} * 1000000 + ${PROJECT_VERSION_MINOR} * 1000 + ${PROJECT_VERSION_PATCH}")
set(EMBER_GENERATED_INCLUDE_DIR ${PROJECT_BINARY_DIR}/include)
configure_file(${PROJECT_SOURCE_DIR}/cmake/ember_version.h.in ${EMBER_GENERATED_INCLUDE_DIR}/ember/ember_version.h @ONLY)
# A copy in the source tree would shadow the generated one for hosts using include/ directly.
if(EXISTS ${PROJECT_SOURCE_DIR}/include/ember/ember_version.h)
  message(FATAL_ERROR "include/ember/ember_version.h must not exist: CMake generates it into the build tree")
endif()
