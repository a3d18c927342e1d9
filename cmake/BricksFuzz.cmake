# libFuzzer targets (BRICKS_FUZZ=ON, clang only; tools/fuzz.sh drives them).
#
# Every target of the tree is compiled with -fsanitize=fuzzer-no-link: libFuzzer's coverage
# has to reach into the libraries a fuzz target links, not only the target's own file.
# ASan and UBSan come along so that a bad read or an overflow is a finding, not luck.
if(NOT BRICKS_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "BRICKS_FUZZ=ON needs clang (libFuzzer is part of clang), but the C++ "
                      "compiler is ${CMAKE_CXX_COMPILER_ID}; configure a fresh build directory "
                      "with CC=clang CXX=clang++, or use tools/fuzz.sh, which does")
endif()
if(BRICKS_SANITIZE)
  message(FATAL_ERROR "BRICKS_FUZZ=ON already builds with ASan and UBSan; leave BRICKS_SANITIZE OFF")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=undefined)
add_link_options(-fsanitize=address,undefined)

# A fuzz target: one source file holding LLVMFuzzerTestOneInput, linked with libFuzzer's main.
function(bricks_add_fuzz_target target)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${target} ${F_SOURCES})
  bricks_target_defaults(${target})
  target_link_libraries(${target} PRIVATE ${F_LIBS})
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
endfunction()
