# orch_add_module(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates orch_<name> with the alias orch::<name>. The module folder is the public include path,
# src/ the private one. Sources are listed, never globbed, so reviews show what moved.
function(orch_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports false positives at -O2: -Wrestrict inside std::string (GCC PR 105329) and
    # -Wmaybe-uninitialized on engaged std::optional values (GCC PR 80635).
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-maybe-uninitialized)
  endif()
  if(ORCH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ORCH_COVERAGE)
    target_compile_options(${target} PRIVATE --coverage -fprofile-update=atomic)
    target_link_options(${target} PUBLIC --coverage)
  endif()
endfunction()

function(orch_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    # A module that so far has only headers (its public interface).
    add_library(orch_${name} INTERFACE)
    add_library(orch::${name} ALIAS orch_${name})
    target_include_directories(orch_${name} INTERFACE "${CMAKE_CURRENT_SOURCE_DIR}")
    target_link_libraries(orch_${name} INTERFACE ${ARG_PUBLIC_DEPS})
    return()
  endif()
  add_library(orch_${name} STATIC ${ARG_SOURCES})
  add_library(orch::${name} ALIAS orch_${name})
  target_include_directories(orch_${name}
    PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}"
    PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/src")
  target_link_libraries(orch_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  orch_target_warnings(orch_${name})
endfunction()

# orch_add_executable(<name> SOURCES ... DEPS ...)
function(orch_add_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  orch_target_warnings(${name})
endfunction()

# orch_add_test_binary(<module> KIND unit|integration|crash|cluster|e2e SOURCES ...
#                      [HELPERS ...] DEPS ...)
# One Boost.Test binary per module and kind; every source file in SOURCES (but main.cpp) is one
# suite named after its stem, registered with ctest as <kind>.<module>.<suite> and labelled
# <kind>. HELPERS are compiled in but hold no suite (fixtures).
function(orch_add_test_binary module)
  cmake_parse_arguments(ARG "" "KIND;TIMEOUT" "SOURCES;HELPERS;DEPS" ${ARGN})
  set(target test_${ARG_KIND}_${module})
  add_executable(${target} ${ARG_SOURCES} ${ARG_HELPERS})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} Boost::unit_test_framework)
  target_compile_definitions(${target} PRIVATE BOOST_TEST_DYN_LINK)
  orch_target_warnings(${target})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  foreach(src IN LISTS ARG_SOURCES)
    get_filename_component(suite "${src}" NAME_WE)
    if(suite STREQUAL "main")
      continue()
    endif()
    set(test_name ${ARG_KIND}.${module}.${suite})
    add_test(NAME ${test_name} COMMAND ${target} --run_test=${suite} --log_level=message
                                         --report_level=short)
    set_tests_properties(${test_name} PROPERTIES LABELS ${ARG_KIND} TIMEOUT ${ARG_TIMEOUT})
  endforeach()
endfunction()
