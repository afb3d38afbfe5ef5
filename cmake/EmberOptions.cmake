# Build options shared by every target. The library is compiled for the architecture's
# baseline (x86-64, ARMv8-A); faster kernels live in their own translation units
# (kernels/avx2, kernels/avx512, kernels/neon_dotprod) that are compiled with ISA flags and
# chosen at run time by the CPU check (kernels/dispatch.h), so one binary runs on every CPU
# of its architecture.

option(EMBER_BUILD_TESTS "Build the GoogleTest suites" ON)
option(EMBER_BUILD_BENCH "Build Google Benchmark micro-benchmarks" ON)
option(EMBER_BUILD_FUZZERS "Build libFuzzer targets (needs clang)" OFF)
option(EMBER_ASAN "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(EMBER_TSAN "Build with ThreadSanitizer" OFF)
option(EMBER_WERROR "Treat warnings as errors" OFF)

add_compile_options(-Wall -Wextra -Wno-unused-parameter)
if(EMBER_WERROR)
  add_compile_options(-Werror)
endif()

if(EMBER_ASAN OR EMBER_BUILD_FUZZERS)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(EMBER_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
if(EMBER_BUILD_FUZZERS)
  # Instrument everything for coverage (and ASan/UBSan above); the fuzz targets add
  # -fsanitize=fuzzer themselves. The same tree also builds the test suites, so one clang
  # build serves both the sanitizer stage and the fuzz stage of scripts/test.sh.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# EMBER_ARCH: the target architecture's kernel family, x86_64 or aarch64 (the cross toolchain
# files in cmake/toolchains set CMAKE_SYSTEM_PROCESSOR). kernels/CMakeLists.txt builds that
# architecture's kernel folders only.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x64)$")
  set(EMBER_ARCH x86_64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(EMBER_ARCH aarch64)
  # ARMv8-A has fused multiply-add in its baseline, and GCC (like clang) contracts a * b + c
  # into one in C++ by default. The scalar kernels are the reference the SIMD twins are
  # tested against, some bit for bit (the Q8 quantizer rounds x * inv to float before adding
  # its rounding constant); they must round as written, as on x86-64, whose baseline has no
  # FMA. The NEON kernels use FMA where they mean it, through intrinsics.
  add_compile_options(-ffp-contract=off)
else()
  message(FATAL_ERROR "ember builds for x86-64 and aarch64; CMAKE_SYSTEM_PROCESSOR is '${CMAKE_SYSTEM_PROCESSOR}'")
endif()

# ISA flags for the kernel translation units that are dispatched at run time.
# aarch64: kernels/neon is the baseline Advanced SIMD every ARMv8-A core has (named so that
# the baseline is explicit); kernels/neon_dotprod adds SDOT/UDOT (ARMv8.2-A), called only when
# the CPU reports them (HWCAP_ASIMDDP).
set(EMBER_NEON_FLAGS -march=armv8-a)
set(EMBER_DOTPROD_FLAGS -march=armv8.2-a+dotprod)
set(EMBER_AVX2_FLAGS -mavx2 -mfma -mf16c -mbmi2)
set(EMBER_AVX512_FLAGS -mavx2 -mfma -mf16c -mbmi2 -mavx512f -mavx512bw -mavx512vl -mavx512dq
    -mavx512vnni -mavx512bf16)
