# Finds utf8proc (Debian: libutf8proc-dev), used for Unicode character categories.
find_path(Utf8proc_INCLUDE_DIR utf8proc.h)
find_library(Utf8proc_LIBRARY NAMES utf8proc utf8proc_static)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Utf8proc REQUIRED_VARS Utf8proc_LIBRARY Utf8proc_INCLUDE_DIR)
if(Utf8proc_FOUND AND NOT TARGET Utf8proc::Utf8proc)
  add_library(Utf8proc::Utf8proc UNKNOWN IMPORTED)
  set_target_properties(Utf8proc::Utf8proc PROPERTIES
    IMPORTED_LOCATION "${Utf8proc_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Utf8proc_INCLUDE_DIR}")
  # On Windows utf8proc.h declares its functions dllimport unless told the library is static
  # (the MinGW build links the static libutf8proc.a of scripts/windows-deps.sh).
  if(WIN32 AND Utf8proc_LIBRARY MATCHES "\\.a$" AND NOT Utf8proc_LIBRARY MATCHES "\\.dll\\.a$")
    set_property(TARGET Utf8proc::Utf8proc APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS UTF8PROC_STATIC)
  endif()
endif()
