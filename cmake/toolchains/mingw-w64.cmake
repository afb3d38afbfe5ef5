# Windows x64 with Debian's MinGW-w64 (g++-mingw-w64-x86-64-posix; scripts/setup.sh):
#   cmake -S . -B build-windows -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64.cmake \
#         -DCMAKE_PREFIX_PATH=<prefix with Abseil, utf8proc, GoogleTest, nlohmann-json>
# scripts/windows-deps.sh builds that prefix from Debian's sources; scripts/test.sh's
# `windows` stage does all of this and runs the tests under Wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

# The posix-threads flavour: the win32 flavour of GCC 12 has no std::thread or std::mutex.
set(EMBER_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${EMBER_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${EMBER_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${EMBER_MINGW_TRIPLE}-windres)

# Headers and libraries only from the MinGW tree and the dependency prefix, never the
# build machine's /usr (its Linux Abseil would be found first otherwise); programs from
# the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${EMBER_MINGW_TRIPLE})
if(CMAKE_PREFIX_PATH)
  list(APPEND CMAKE_FIND_ROOT_PATH ${CMAKE_PREFIX_PATH})
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# GCC cannot align the Win64 stack beyond 16 bytes (GCC bug 54412), yet spills AVX and
# AVX-512 registers with aligned moves, which fault at run time. The assembler rewrites
# every aligned vector move as its unaligned twin (same speed on aligned data).
set(CMAKE_C_FLAGS_INIT "-Wa,-muse-unaligned-vector-move")
set(CMAKE_CXX_FLAGS_INIT "-Wa,-muse-unaligned-vector-move")

# libgcc, libstdc++ and winpthread linked in: ember.dll and the test programs need no
# MinGW runtime DLLs beside them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")

# Tests and examples run under Wine (ctest prefixes every test command with it).
find_program(EMBER_WINE64 NAMES wine64 wine PATHS /usr/lib/wine)  # Debian: /usr/lib/wine/wine64
if(EMBER_WINE64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EMBER_WINE64})
endif()
