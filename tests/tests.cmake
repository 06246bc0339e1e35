# Tests: C unit tests (one binary per tests/unit/test_*.c, each test forked with a timeout),
# busted specs, contract tests and black-box integration scripts. Registered with ctest.
file(GLOB AIN_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${AIN_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/unit/harness.c
                 ${CMAKE_SOURCE_DIR}/tests/unit/store_fixture.c)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
  target_link_libraries(${name} PRIVATE ain_engine)
  set_target_properties(${name} PROPERTIES ENABLE_EXPORTS ON)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit ENVIRONMENT
    "AIN_BIN=$<TARGET_FILE:ain>;AIN_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endforeach()

# Black-box tests: tests/integration/*.sh, run with the built binary in $AIN_BIN.
file(GLOB AIN_IT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/*.sh)
foreach(src ${AIN_IT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME it.${name} COMMAND bash ${src})
  set_tests_properties(it.${name} PROPERTIES LABELS integration TIMEOUT 900 ENVIRONMENT
    "AIN_BIN=$<TARGET_FILE:ain>;AIN_SOURCE_DIR=${CMAKE_SOURCE_DIR};AIN_BUILD_DIR=${CMAKE_BINARY_DIR}")
endforeach()

# The same unit tests built with ASan+UBSan in a sibling build (tools/test.sh), run by this ctest
# so that one summary covers everything.
set(AIN_SANITIZER_BUILD_DIR "" CACHE PATH "Build dir holding sanitizer builds of the unit tests")
if(AIN_SANITIZER_BUILD_DIR)
  foreach(src ${AIN_UNIT_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME asan.${name} COMMAND ${AIN_SANITIZER_BUILD_DIR}/${name})
    set_tests_properties(asan.${name} PROPERTIES LABELS asan ENVIRONMENT
      "AIN_BIN=${AIN_SANITIZER_BUILD_DIR}/ain;AIN_SOURCE_DIR=${CMAKE_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1")
  endforeach()
endif()

# Black-box engine tests again with the ASan+UBSan `ain`: a leak or a sanitizer report at exit
# makes the binary exit non-zero, which these scripts check. many_nodes covers the Postgres
# backend's reconnects, host lookups and array batches in engines that run to their end.
if(AIN_SANITIZER_BUILD_DIR)
  foreach(name engine_cli shutdown crash_restart review_publish many_nodes)
    add_test(NAME asan.it.${name} COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/${name}.sh)
    set_tests_properties(asan.it.${name} PROPERTIES LABELS asan TIMEOUT 900 ENVIRONMENT
      "AIN_BIN=${AIN_SANITIZER_BUILD_DIR}/ain;AIN_SOURCE_DIR=${CMAKE_SOURCE_DIR};AIN_BUILD_DIR=${AIN_SANITIZER_BUILD_DIR};ASAN_OPTIONS=detect_leaks=1")
  endforeach()
endif()
