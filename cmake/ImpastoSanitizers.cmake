# Instrumented builds, each in a build folder of its own (scripts/fuzz.sh,
# scripts/sanitize.sh). The flags apply to every target, so the libraries the
# harnesses and tests link are checked too; third-party libraries (LibTorch,
# OpenCV, Qt) are not rebuilt and stay uninstrumented.
option(IMPASTO_FUZZ "Build the libFuzzer harnesses of tests/fuzz with ASan and UBSan (clang only)" OFF)
set(IMPASTO_SANITIZE "" CACHE STRING
    "Build everything with these sanitizers, e.g. address,undefined (scripts/sanitize.sh)")

if(IMPASTO_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "IMPASTO_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                        "(apt-get install clang libclang-rt-14-dev, or run scripts/install-deps.sh)")
  endif()
  set(IMPASTO_SANITIZE "address,undefined")
  # Coverage feedback for the fuzzer in every library a harness links.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(IMPASTO_SANITIZE)
  # Undefined behaviour aborts, as a memory error does, instead of printing and going on.
  add_compile_options(-fsanitize=${IMPASTO_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${IMPASTO_SANITIZE})
endif()
