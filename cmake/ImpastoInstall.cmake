# What `cmake --install` puts where, and how `cpack -G DEB` packages it.
# Included from the top CMakeLists.txt after the targets exist. The programs
# are self-contained (models' manifests, Caffe deploy files and the studio's
# icons and presets are compiled in), so the install is the two binaries plus
# desktop integration and docs.
include(GNUInstallDirs)

install(TARGETS impasto-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

if(TARGET impasto)
  install(TARGETS impasto RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

  # Menu entry and "Open with" for the image types the studio reads.
  install(FILES ${PROJECT_SOURCE_DIR}/resources/impasto.desktop
          DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)

  # hicolor is the theme every desktop falls back to; the fixed sizes are
  # rendered from the SVG by scripts/make-icons.sh and committed.
  set(icon_dir ${CMAKE_INSTALL_DATADIR}/icons/hicolor)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/impasto.svg DESTINATION ${icon_dir}/scalable/apps)
  foreach(size 16 24 32 48 64 128)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/impasto-${size}.png
            DESTINATION ${icon_dir}/${size}x${size}/apps RENAME impasto.png)
  endforeach()
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/impasto.png DESTINATION ${icon_dir}/256x256/apps)
endif()

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Debian package. Packagers who ship it themselves set their own address.
set(IMPASTO_PACKAGE_MAINTAINER "Impasto Dev <dev@impasto.example>" CACHE STRING "Maintainer field of the .deb")
set(IMPASTO_PACKAGE_HOMEPAGE "https://impasto.example" CACHE STRING "Homepage field of the .deb")

set(CPACK_PACKAGE_NAME impasto)
set(CPACK_PACKAGE_VENDOR "The Impasto developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "neural style transfer studio and command-line renderer")
set(CPACK_PACKAGE_DESCRIPTION
    "Impasto paints a photo in the style of one or more paintings (Gatys et al.).
The studio shows the image taking shape while the optimisation runs, with the
content weight, the style weight and each style layer's weight adjustable
live; impasto-cli renders the same jobs from scripts. Runs VGG-19, ONNX, Caffe,
PyTorch and TensorFlow.js CNNs on the CPU with LibTorch.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Debian ships stripped binaries: the symbol tables are of no use to users.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # impasto_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${IMPASTO_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE ${IMPASTO_PACKAGE_HOMEPAGE})
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps maps every library the binaries link (libtorch1.13,
# libopencv-*406, libqt6*, libdnnl2...) to its package and version.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# LibTorch reaches BLAS through the libblas.so.3 alternative, which Debian's
# reference BLAS also satisfies; with it Gram matrices are ~30x slower than
# with OpenBLAS, so the package asks for OpenBLAS outright (merged with the
# shlibdeps list).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-openmp")

include(CPack)
