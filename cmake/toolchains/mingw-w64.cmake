#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Cross-compiles for 64-bit Windows with Debian's mingw-w64 (package
# g++-mingw-w64-x86-64-posix, the POSIX threads flavour that std::thread
# needs) against Debian's Boost headers. The tests run under Wine:
#
#   cmake -S . -B build-windows -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64.cmake
#   cmake --build build-windows -j2 && (cd build-windows && ctest)
#
# Programs are linked statically: Wine would not find mingw's libstdc++ and
# winpthread DLLs, and a Windows user would need to ship them.
#

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

# Libraries and packages come from the mingw-w64 tree only, never the host's.
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT -static)

# Boost's headers serve every target, but /usr/include as a whole is glibc's
# and must not be searched by a Windows compiler: expose boost/ alone, through
# a directory that holds nothing else. Asio and System are header-only;
# the tests use Boost.Test's header-only variant.
set(TFO_BOOST_HEADERS /usr/include/boost CACHE PATH "Boost's headers (the boost/ directory) for the Windows build")
set(_tfo_boost_root "${CMAKE_BINARY_DIR}/mingw-w64-boost")
if(NOT EXISTS "${_tfo_boost_root}/boost")
    file(MAKE_DIRECTORY "${_tfo_boost_root}")
    file(CREATE_LINK "${TFO_BOOST_HEADERS}" "${_tfo_boost_root}/boost" SYMBOLIC)
endif()
set(Boost_INCLUDE_DIR "${_tfo_boost_root}" CACHE PATH "")
set(Boost_NO_BOOST_CMAKE ON)

# ctest runs the programs under Wine, in a hermetic prefix (scripts/wine.sh).
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../../scripts/wine.sh")
