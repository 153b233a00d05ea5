# Installs the build into a scratch prefix and checks what a user gets:
# the layout of issue 8 and an impasto-cli that runs from any folder (its
# resources are compiled in, so nothing may point back at the source tree).
#   cmake -DBUILD_DIR=... -DPREFIX=... -DWITH_GUI=ON|OFF -DVERSION=x.y.z -P check_install.cmake
foreach(var BUILD_DIR PREFIX WITH_GUI VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_install.cmake needs -D${var}=...")
  endif()
endforeach()

file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc}):\n${out}")
endif()

set(expected bin/impasto-cli share/doc/impasto/README.md share/doc/impasto/LICENSE)
if(WITH_GUI)
  list(APPEND expected bin/impasto share/applications/impasto.desktop
       share/icons/hicolor/scalable/apps/impasto.svg)
  foreach(size 16 24 32 48 64 128 256)
    list(APPEND expected share/icons/hicolor/${size}x${size}/apps/impasto.png)
  endforeach()
endif()
set(missing "")
foreach(path IN LISTS expected)
  if(NOT EXISTS ${PREFIX}/${path})
    list(APPEND missing ${path})
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "not installed under ${PREFIX}: ${missing}")
endif()

# Run from an empty folder outside the build and source trees, with an empty
# model cache, so neither relative paths nor the developer's models can help.
set(elsewhere ${PREFIX}/../install-test-cwd)
file(REMOVE_RECURSE ${elsewhere})
file(MAKE_DIRECTORY ${elsewhere}/models)
execute_process(COMMAND ${PREFIX}/bin/impasto-cli --version WORKING_DIRECTORY ${elsewhere}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "${VERSION}")
  message(FATAL_ERROR "installed impasto-cli --version: exit ${rc}, output '${out}${err}', expected ${VERSION}")
endif()
# The built-in model list comes from manifests compiled into the binary.
execute_process(COMMAND ${CMAKE_COMMAND} -E env IMPASTO_MODEL_DIR=${elsewhere}/models
                        ${PREFIX}/bin/impasto-cli models list
                WORKING_DIRECTORY ${elsewhere} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "darknet-reference" OR NOT out MATCHES "vgg19")
  message(FATAL_ERROR "installed impasto-cli models list: exit ${rc}, output '${out}${err}'")
endif()
file(REMOVE_RECURSE ${elsewhere})
message(STATUS "installed layout under ${PREFIX} is complete; impasto-cli ${VERSION} runs from ${elsewhere}")
