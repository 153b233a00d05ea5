# Use ccache when it is installed: a translation unit that includes torch
# headers takes seconds to compile even when it includes only what it uses.
# The sloppiness lets it cache the test files, which use precompiled headers.
find_program(IMPASTO_CCACHE ccache)
if(IMPASTO_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros
                                  ${IMPASTO_CCACHE})
endif()
