# One INTERFACE target carries the project's warning flags; every target links it.
add_library(impasto_warnings INTERFACE)
add_library(impasto::warnings ALIAS impasto_warnings)
target_compile_options(impasto_warnings INTERFACE
  -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> -Wnon-virtual-dtor
  -Wno-unused-parameter)
if(IMPASTO_WERROR)
  target_compile_options(impasto_warnings INTERFACE -Werror)
endif()
