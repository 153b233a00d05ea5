# Use ccache when it is installed: a torch translation unit takes ~20 s to compile.
find_program(IMPASTO_CCACHE ccache)
if(IMPASTO_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${IMPASTO_CCACHE})
endif()
