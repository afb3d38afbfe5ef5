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

# ember_optional_tool(<var> <program> DEBIAN <package> TEST <test name>): find_program() for a
# tool that only some tests need. Missing, the caller's tests are not registered (the message
# says which and what to install) — unless EMBER_REQUIRE_TOOLS is ON, as scripts/test.sh sets
# it after scripts/setup.sh has installed everything: then a missing tool fails configure, so
# a test suite that claims to have run a binding's tests cannot have silently left them out.
option(EMBER_REQUIRE_TOOLS "Fail configure when a tool some tests need (go, cargo, node) is missing" OFF)
function(ember_optional_tool var program)
  cmake_parse_arguments(_ember_tool "" "DEBIAN;TEST" "" ${ARGN})
  find_program(${var} ${program})
  if(NOT ${var})
    set(_msg "${program} not found: ${_ember_tool_TEST} is not registered (install the Debian package '${_ember_tool_DEBIAN}'; scripts/setup.sh does)")
    if(EMBER_REQUIRE_TOOLS)
      message(FATAL_ERROR "ember: ${_msg}")
    endif()
    message(STATUS "ember: ${_msg}")
  endif()
endfunction()
