# Install rules, a CMake package and a pkg-config file, so that hosts build against an
# installed ember with find_package(ember CONFIG) (targets ember::ember for libember.so.0,
# ember::ember_static for libember.a) or with `pkg-config --cflags --libs ember`.
# tests/consumer/ proves both from a temporary prefix (ctest -L install).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(EMBER_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ember)
set_target_properties(ember_static PROPERTIES EXPORT_NAME ember_static)
install(TARGETS ember ember_static EXPORT emberTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# ember.h (C99), ember.hpp (header-only C++17 wrappers) and the generated ember_version.h.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ember DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${EMBER_GENERATED_INCLUDE_DIR}/ember/ember_version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember)
if(TARGET ember_cli)
  install(TARGETS ember_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT emberTargets NAMESPACE ember:: DESTINATION ${EMBER_CMAKE_INSTALL_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/emberConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/emberConfig.cmake INSTALL_DESTINATION ${EMBER_CMAKE_INSTALL_DIR})
# Same major version = same ABI (docs/ABI.md).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/emberConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
# FindUtf8proc.cmake goes with the package: ember::ember_static needs Utf8proc::Utf8proc.
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/emberConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/emberConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindUtf8proc.cmake
  DESTINATION ${EMBER_CMAKE_INSTALL_DIR})

# ember.pc. Relocatable: the prefix is found from the .pc file's own place (${pcfiledir}),
# so `cmake --install build --prefix DIR` works for any DIR.
set(EMBER_PC_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(EMBER_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _ember_pc_up "/root/${EMBER_PC_INSTALL_DIR}" "/root")
  string(REGEX REPLACE "/$" "" _ember_pc_up "${_ember_pc_up}")
  set(EMBER_PC_PREFIX "\${pcfiledir}/${_ember_pc_up}")
endif()
# Static linking: Debian ships .pc files for Abseil and utf8proc (Requires.private); the C++
# runtime, libm and threads are plain flags (Libs.private).
set(EMBER_PC_REQUIRES_PRIVATE "absl_status absl_statusor absl_strings absl_str_format absl_flat_hash_map absl_span absl_cord libutf8proc")
set(EMBER_PC_LIBS_PRIVATE "-lstdc++ -lm -pthread")
configure_file(${PROJECT_SOURCE_DIR}/cmake/ember.pc.in ${CMAKE_CURRENT_BINARY_DIR}/ember.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ember.pc DESTINATION ${EMBER_PC_INSTALL_DIR})
