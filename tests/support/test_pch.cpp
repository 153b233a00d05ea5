// Compiles the test binaries' shared precompiled header (tests/CMakeLists.txt).
