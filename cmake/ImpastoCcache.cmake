# Use ccache when it is installed: a translation unit that includes torch
# headers takes seconds to compile even when it includes only what it uses.
find_program(IMPASTO_CCACHE ccache)
if(IMPASTO_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${IMPASTO_CCACHE})
endif()
