# ember_require(<find_package args...> DEBIAN <package>): find_package() that fails early with
# the Debian package to install, instead of CMake's generic "could not find a package
# configuration file". scripts/setup.sh installs every package named here.
macro(ember_require name)
  cmake_parse_arguments(_ember_req "" "DEBIAN" "" ${ARGN})
  find_package(${name} ${_ember_req_UNPARSED_ARGUMENTS} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "ember needs ${name}: install the Debian package '${_ember_req_DEBIAN}' "
                        "(scripts/setup.sh installs everything ember needs).")
  endif()
endmacro()
