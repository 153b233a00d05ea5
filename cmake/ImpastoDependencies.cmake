# Finds third-party packages with messages that name the Debian package to install.
macro(impasto_require package debian)
  find_package(${package} ${ARGN} QUIET)
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR "${package} not found: install it with `apt-get install ${debian}`, "
                        "or run scripts/install-deps.sh")
  endif()
endmacro()

impasto_require(Torch libtorch-dev)
impasto_require(OpenCV libopencv-dev COMPONENTS core imgproc imgcodecs dnn)
impasto_require(nlohmann_json nlohmann-json3-dev)
impasto_require(CURL libcurl4-openssl-dev)
impasto_require(OpenSSL libssl-dev)  # libcrypto's SHA-256
impasto_require(ZLIB zlib1g-dev)     # the CRC-32 of PNG chunks
impasto_require(CLI11 libcli11-dev)  # impasto-cli's flags and subcommands
# libzip reads .pth archives. Through pkg-config: Debian's CMake package for it
# insists on command-line tools that libzip-dev does not ship.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBZIP QUIET IMPORTED_TARGET libzip)
endif()
if(NOT LIBZIP_FOUND)
  message(FATAL_ERROR "libzip not found: install it with `apt-get install libzip-dev pkg-config`, "
                      "or run scripts/install-deps.sh")
endif()
find_package(Threads REQUIRED)
# oneDNN, which LibTorch already uses, for the style gradient's matrix product (core/matmul.h).
# Found directly: its CMake package drags in OpenCL.
find_path(DNNL_INCLUDE_DIR dnnl.h)
find_library(DNNL_LIBRARY dnnl)
if(NOT DNNL_INCLUDE_DIR OR NOT DNNL_LIBRARY)
  message(FATAL_ERROR "oneDNN not found: install it with `apt-get install libdnnl-dev`, "
                      "or run scripts/install-deps.sh")
endif()
if(IMPASTO_BUILD_GUI)
  impasto_require(Qt6 "qt6-base-dev qt6-charts-dev" COMPONENTS Core Gui Widgets Charts Test)
endif()
if(IMPASTO_BUILD_TESTS)
  impasto_require(GTest "libgtest-dev libgmock-dev")
endif()
