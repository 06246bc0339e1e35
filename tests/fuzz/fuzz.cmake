# libFuzzer targets (tests/fuzz/fuzz_*.c), built when AIN_FUZZ=ON with clang: the whole tree is
# compiled with -fsanitize=fuzzer-no-link,address,undefined (coverage for the fuzzer, every report
# an abort) and each harness links libFuzzer's main. `cmake --build DIR --target fuzz` builds them
# all; tools/fuzz.sh runs them for a while, tests/tests.cmake registers short runs with ctest.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "AIN_FUZZ=ON needs clang (libFuzzer): cmake -DCMAKE_C_COMPILER=clang ...")
endif()
file(GLOB AIN_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
add_custom_target(fuzz)
foreach(src ${AIN_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE ain_engine)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES ENABLE_EXPORTS ON)
  add_dependencies(fuzz ${name})
endforeach()
