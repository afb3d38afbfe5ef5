# Cross-compiles ember for 64-bit ARM Linux with Debian's cross toolchain, against Debian's
# arm64 builds of its libraries (multiarch), and runs the tests under qemu-aarch64:
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# Needs (scripts/setup.sh installs them): g++-aarch64-linux-gnu, qemu-user, and after
# `dpkg --add-architecture arm64` libabsl-dev:arm64 libutf8proc-dev:arm64 libgtest-dev:arm64
# libgmock-dev:arm64 (nlohmann-json3-dev is header-only and shared with the host).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Debian's cross compiler already searches /usr/include (after its own headers) and
# /usr/lib/aarch64-linux-gnu; CMake's find_* calls look in the arm64 multiarch directory
# first (lib/aarch64-linux-gnu, where the arm64 packages put libraries and their CMake
# package files), and programs (python3, node, ...) are the host's.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# ctest (and gtest_discover_tests at build time) start the test binaries through qemu, with
# no -L: the dynamic loader, libc, libstdc++ and the libraries are all the arm64 multiarch
# packages' (/lib/ld-linux-aarch64.so.1, /lib/aarch64-linux-gnu), one consistent glibc. The
# cross toolchain's sysroot (/usr/aarch64-linux-gnu) is for linking only: `-L` to it loaded
# its ld.so (glibc 2.36-8cross1) with the multiarch libc.so.6 (2.36-9+deb12u14), and that
# pair hung in pthread_create, so every test that started a thread never finished (found
# through tests/model/attention_test's ThreadPool). QEMU_CPU (e.g. cortex-a53, which lacks
# the dot-product extension) picks the emulated CPU; qemu's default, "max", has every
# extension qemu implements.
find_program(EMBER_QEMU_AARCH64 qemu-aarch64)
if(EMBER_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EMBER_QEMU_AARCH64})
endif()
