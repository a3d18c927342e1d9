# Common settings for every target of this project.

# Warnings are errors in our code (not in third-party headers, which come in as SYSTEM).
function(bricks_target_defaults target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wpedantic -Werror -Wno-missing-field-initializers
      $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>>  # GCC 12 -Wrestrict false positives on std::string at -O3 (GCC bug 105329)
    $<$<COMPILE_LANGUAGE:CUDA>:--Werror=all-warnings -Xcompiler=-Wall>)
  if(BRICKS_SANITIZE)
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX,C>:-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
        # GCC's flow analysis under ASan's instrumentation reports std::function and
        # std::regex members as maybe uninitialised inside libstdc++ at -O1; the release
        # tree, with the warning on, keeps watch over our own code.
        $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>>)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(BRICKS_TSAN)
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX,C>:-fsanitize=thread -fno-omit-frame-pointer
        # Boost.Asio's fences, which GCC's ThreadSanitizer does not model (it warns once per
        # use); Asio pairs each with a lock or an atomic that it does model.
        $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>
        # protobuf's MapFieldBase grows two members when this macro is defined; the system
        # libprotobuf is built without it, so with it every message with a map would have
        # another layout here than in the library. The sanitizer itself does not use it.
        -U__SANITIZE_THREAD__>)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
endfunction()

# Every shipped plugin, for trees that build a few suites and the bricks they load.
if(NOT TARGET bricks_plugins)
  add_custom_target(bricks_plugins)
endif()

# A brick plugin: one shared library in ${BRICKS_PLUGIN_BUILD_DIR}, only the entry symbol exported.
function(bricks_add_plugin target)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${target} MODULE ${P_SOURCES})
  bricks_target_defaults(${target})
  target_link_libraries(${target} PRIVATE bricks::sdk ${P_LIBS})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${BRICKS_PLUGIN_BUILD_DIR})
  target_link_options(${target} PRIVATE
    "-Wl,--version-script=${PROJECT_SOURCE_DIR}/sdk/cmake/bricks_plugin.map" -Wl,--no-undefined)
  install(TARGETS ${target} LIBRARY DESTINATION ${BRICKS_PLUGIN_INSTALL_DIR})
  add_dependencies(bricks_plugins ${target})
endfunction()

# Code that bricks-conform is built from, and so installed: assertion messages name their
# sources relative to the tree, so the installed program holds no path of the source tree.
function(bricks_conformance_defaults target)
  target_compile_options(${target} PRIVATE -fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=)
endfunction()

# A kind's conformance suite: an object library of GoogleTest tests over its kind's case
# list, linked into the kind's shipped test program and, through the global property
# BRICKS_CONFORMANCE_SUITES, into bricks-conform (tests/CMakeLists.txt).
function(bricks_conformance_suite target)
  cmake_parse_arguments(S "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${target} OBJECT ${S_SOURCES})
  bricks_target_defaults(${target})
  bricks_conformance_defaults(${target})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC ${S_LIBS})
  set_property(GLOBAL APPEND PROPERTY BRICKS_CONFORMANCE_SUITES ${target})
endfunction()

# A GoogleTest suite: one executable per concern. CTest runs it as one test, or as SHARDS tests
# that split its cases with GoogleTest's own sharding (GTEST_TOTAL_SHARDS), so a long suite
# does not hold up `ctest -j`. One test per case (gtest_discover_tests) started a process per
# case: under ASan the start and each case's plugin loading cost more than most cases, and the
# sanitizer stage ran 1282 processes for 67 programs. BRICKS_TEST_PER_CASE=ON registers every
# case as its own test again, for `ctest -R Suite.Case` or a stage that stripes cases over
# CPUs. Either way the tests carry the label of their executable (`ctest -L test_engine`).
# TIMEOUT is for the whole program (or shard), sanitizers included. COST orders a fresh tree's
# run (CTest starts the costliest first, then learns the times): give it to the long programs so
# they do not start last and leave the other CPUs idle.
option(BRICKS_TEST_PER_CASE "Register every GoogleTest case as its own CTest test" OFF)
function(bricks_add_test target)
  cmake_parse_arguments(T "" "TIMEOUT;SHARDS;COST" "SOURCES;LIBS" ${ARGN})
  add_executable(${target} ${T_SOURCES})
  bricks_target_defaults(${target})
  target_link_libraries(${target} PRIVATE GTest::gtest GTest::gtest_main GTest::gmock ${T_LIBS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  target_compile_definitions(${target} PRIVATE
    BRICKS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    BRICKS_BINARY_DIR="${PROJECT_BINARY_DIR}"
    BRICKS_PLUGIN_BUILD_DIR="${BRICKS_PLUGIN_BUILD_DIR}")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  if(BRICKS_TEST_PER_CASE)
    gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${T_TIMEOUT}
                         LABELS ${target})
    return()
  endif()
  if(NOT T_SHARDS)
    set(T_SHARDS 1)
  endif()
  math(EXPR last "${T_SHARDS} - 1")
  foreach(i RANGE ${last})
    set(name ${target})
    if(T_SHARDS GREATER 1)
      set(name ${target}.${i})
    endif()
    # --gtest_brief=1: a failing run prints its failures and the summary, not every case.
    add_test(NAME ${name} COMMAND ${target} --gtest_brief=1
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS ${target}
      ENVIRONMENT "GTEST_TOTAL_SHARDS=${T_SHARDS};GTEST_SHARD_INDEX=${i}")
    if(T_COST)
      set_tests_properties(${name} PROPERTIES COST ${T_COST})
    endif()
  endforeach()
endfunction()
