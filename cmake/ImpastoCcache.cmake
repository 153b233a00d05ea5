# Use ccache when it is installed: a torch translation unit takes ~20 s to compile.
# The sloppiness lets ccache cache the translation units that use the
# precompiled torch header (see impasto_precompile_torch).
find_program(IMPASTO_CCACHE ccache)
if(IMPASTO_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime ${IMPASTO_CCACHE})
endif()

# Parsing torch/torch.h is most of a torch translation unit's compile time:
# precompile it once per target.
function(impasto_precompile_torch target)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
endfunction()
