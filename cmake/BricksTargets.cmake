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

# A GoogleTest suite: one executable per concern, registered with CTest test by test.
function(bricks_add_test target)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${target} ${T_SOURCES})
  bricks_target_defaults(${target})
  target_link_libraries(${target} PRIVATE GTest::gtest GTest::gtest_main GTest::gmock ${T_LIBS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  target_compile_definitions(${target} PRIVATE
    BRICKS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    BRICKS_BINARY_DIR="${PROJECT_BINARY_DIR}"
    BRICKS_PLUGIN_BUILD_DIR="${BRICKS_PLUGIN_BUILD_DIR}")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # Labelled with the binary, so a build tree of a few suites runs them with `ctest -L`.
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS ${target})
endfunction()
