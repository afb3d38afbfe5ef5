# Build options shared by every target. The library is compiled for baseline x86-64;
# faster kernels live in their own translation units (kernels/avx2, kernels/avx512) that
# are compiled with ISA flags and chosen at run time by CPUID, so one binary runs anywhere.

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

# ISA flags for the kernel translation units that are dispatched at run time.
set(EMBER_AVX2_FLAGS -mavx2 -mfma -mf16c -mbmi2)
set(EMBER_AVX512_FLAGS -mavx2 -mfma -mf16c -mbmi2 -mavx512f -mavx512bw -mavx512vl -mavx512dq
    -mavx512vnni -mavx512bf16)
