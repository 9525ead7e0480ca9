# Debian ships CAF 0.17.6 without a CMake package config: find it by hand and refuse any
# other version (a /usr/local CAF 0.18+ has a different API).
#
# CAF_ROOT (cache variable or environment) points at another CAF 0.17.6 installation and is then
# the only place searched. A ThreadSanitizer build (ORCH_SANITIZERS contains "thread") needs
# CAF itself instrumented, or TSan misses every hand-over between actors: without CAF_ROOT it
# uses the cache tools/build-caf-tsan.sh fills, and fails when that cache is missing or stale.
set(CAF_ROOT "${CAF_ROOT}" CACHE PATH "CAF 0.17.6 installation to use instead of the system's")
if(NOT CAF_ROOT AND DEFINED ENV{CAF_ROOT})
  set(CAF_ROOT "$ENV{CAF_ROOT}" CACHE PATH "" FORCE)
endif()

if(NOT CAF_ROOT AND ORCH_SANITIZERS MATCHES "thread")
  set(_caf_tsan_script "${CMAKE_CURRENT_LIST_DIR}/../build-caf-tsan.sh")
  execute_process(COMMAND "${_caf_tsan_script}" --print-dir
                  OUTPUT_VARIABLE _caf_tsan_dir OUTPUT_STRIP_TRAILING_WHITESPACE
                  COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND "${_caf_tsan_script}" --print-key
                  OUTPUT_VARIABLE _caf_tsan_key OUTPUT_STRIP_TRAILING_WHITESPACE
                  COMMAND_ERROR_IS_FATAL ANY)
  set(_caf_tsan_stamp "")
  if(EXISTS "${_caf_tsan_dir}/.orch-build-stamp")
    file(STRINGS "${_caf_tsan_dir}/.orch-build-stamp" _caf_tsan_stamp LIMIT_COUNT 1)
  endif()
  if(NOT _caf_tsan_stamp STREQUAL _caf_tsan_key)
    message(FATAL_ERROR "ThreadSanitizer needs a CAF built with -fsanitize=thread, and "
                        "${_caf_tsan_dir} has none (or one built with other flags): run "
                        "tools/build-caf-tsan.sh (./dev build tsan does) or set CAF_ROOT")
  endif()
  set(CAF_ROOT "${_caf_tsan_dir}" CACHE PATH "" FORCE)
  # A rebuilt cache (new compiler or flags) reconfigures and relinks.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_caf_tsan_dir}/.orch-build-stamp")
endif()

if(CAF_ROOT)
  # A result cached by an earlier configure against another CAF must not survive.
  foreach(_caf_var CAF_INCLUDE_DIR CAF_CORE_LIB CAF_IO_LIB)
    if(${_caf_var} AND NOT ${_caf_var} MATCHES "^${CAF_ROOT}/")
      unset(${_caf_var} CACHE)
    endif()
  endforeach()
  set(_caf_hints PATHS "${CAF_ROOT}" NO_DEFAULT_PATH)
  find_path(CAF_INCLUDE_DIR caf/all.hpp ${_caf_hints} PATH_SUFFIXES include)
  find_library(CAF_CORE_LIB caf_core ${_caf_hints} PATH_SUFFIXES lib lib64 "lib/${CMAKE_LIBRARY_ARCHITECTURE}")
  find_library(CAF_IO_LIB caf_io ${_caf_hints} PATH_SUFFIXES lib lib64 "lib/${CMAKE_LIBRARY_ARCHITECTURE}")
else()
  find_path(CAF_INCLUDE_DIR caf/all.hpp)
  find_library(CAF_CORE_LIB caf_core)
  find_library(CAF_IO_LIB caf_io)
endif()

if(CAF_INCLUDE_DIR)
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_version_line
       REGEX "#define CAF_VERSION [0-9]+")
  string(REGEX REPLACE ".*CAF_VERSION ([0-9]+).*" "\\1" CAF_VERSION_NUMBER "${_caf_version_line}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF REQUIRED_VARS CAF_INCLUDE_DIR CAF_CORE_LIB CAF_IO_LIB)

if(CAF_FOUND AND NOT CAF_VERSION_NUMBER STREQUAL "1706")
  message(FATAL_ERROR "expected CAF 0.17.6 (CAF_VERSION 1706), found ${CAF_VERSION_NUMBER}")
endif()

# An uninstrumented CAF under TSan reports every mailbox hand-over as a race: refuse it. An
# instrumented libcaf_core calls into the TSan runtime, so its dynamic symbols name __tsan_*.
if(CAF_FOUND AND ORCH_SANITIZERS MATCHES "thread")
  find_program(CAF_NM_PROGRAM nm)
  if(CAF_NM_PROGRAM)
    execute_process(COMMAND "${CAF_NM_PROGRAM}" -D "${CAF_CORE_LIB}" OUTPUT_VARIABLE _caf_symbols
                    RESULT_VARIABLE _caf_nm_result ERROR_QUIET)
    if(_caf_nm_result EQUAL 0 AND NOT _caf_symbols MATCHES "__tsan_")
      message(FATAL_ERROR "${CAF_CORE_LIB} is not built with -fsanitize=thread: run "
                          "tools/build-caf-tsan.sh or point CAF_ROOT at an instrumented CAF")
    endif()
  endif()
endif()

if(CAF_FOUND AND NOT TARGET CAF::core)
  find_package(Threads REQUIRED)
  # IMPORTED_LOCATION is a full path outside the system directories, so CMake puts its
  # directory in the RPATH of what links it: the test binaries load a CAF_ROOT CAF at run time
  # without LD_LIBRARY_PATH.
  add_library(CAF::core UNKNOWN IMPORTED)
  set_target_properties(CAF::core PROPERTIES
    IMPORTED_LOCATION "${CAF_CORE_LIB}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(CAF::io UNKNOWN IMPORTED)
  set_target_properties(CAF::io PROPERTIES
    IMPORTED_LOCATION "${CAF_IO_LIB}"
    INTERFACE_LINK_LIBRARIES CAF::core)
endif()
