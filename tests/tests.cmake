# Tests: C unit tests (one binary per tests/unit/test_*.c, each test forked with a timeout),
# busted specs, contract tests and black-box integration scripts. Registered with ctest.
file(GLOB AIN_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${AIN_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/unit/harness.c
                 ${CMAKE_SOURCE_DIR}/tests/unit/store_fixture.c)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
  target_link_libraries(${name} PRIVATE ain_engine)
  add_dependencies(${name} ain-spawn-helper) # ain.spawn finds it beside the test binary
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
  # Exit 77: the script skipped (it says why), e.g. the console's browser test without chromium.
  set_tests_properties(it.${name} PROPERTIES LABELS integration TIMEOUT 900 SKIP_RETURN_CODE 77 ENVIRONMENT
    "AIN_BIN=$<TARGET_FILE:ain>;AIN_SOURCE_DIR=${CMAKE_SOURCE_DIR};AIN_BUILD_DIR=${CMAKE_BINARY_DIR}")
endforeach()

# The API's route contract tests again on a throwaway PostgreSQL (lib.bash: AIN_IT_STORE), each
# its own entry so the suite stays parallel.
foreach(name api_tasks api_tasks_write api_reviews api_admin api_dags vectors publish_crash
             publish_trust)
  add_test(NAME it.${name}_pg COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/${name}.sh)
  set_tests_properties(it.${name}_pg PROPERTIES LABELS integration TIMEOUT 900 ENVIRONMENT
    "AIN_BIN=$<TARGET_FILE:ain>;AIN_SOURCE_DIR=${CMAKE_SOURCE_DIR};AIN_BUILD_DIR=${CMAKE_BINARY_DIR};AIN_IT_STORE=postgres")
endforeach()

# The same unit tests built with ASan+UBSan in a sibling build (tools/test.sh), run by this ctest
# so that one summary covers everything.
set(AIN_SANITIZER_BUILD_DIR "" CACHE PATH "Build dir holding sanitizer builds of the unit tests")
if(AIN_SANITIZER_BUILD_DIR)
  foreach(src ${AIN_UNIT_TESTS})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME asan.${name} COMMAND ${AIN_SANITIZER_BUILD_DIR}/${name})
    set_tests_properties(asan.${name} PROPERTIES LABELS asan ENVIRONMENT
      "AIN_BIN=${AIN_SANITIZER_BUILD_DIR}/ain;AIN_SOURCE_DIR=${CMAKE_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1;LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp")
  endforeach()
endif()

# Black-box engine tests again with the ASan+UBSan `ain`: a leak or a sanitizer report at exit
# makes the binary exit non-zero, which these scripts check. many_nodes covers the Postgres
# backend's reconnects, host lookups and array batches in engines that run to their end; api_leak
# an engine whose API served HTTP/1.1, h2c, HTTP/2 over TLS and mTLS callers; api_videos the
# media routes' chunked streams, clients leaving mid-body included. tests/lsan.supp
# holds the one allocation site LeakSanitizer may not report (h2o's own thread-local free lists,
# which h2o 2.2.5 gives no way to empty; the file says why); api_events the event streams'
# buffers, ring and catch-up jobs (and a disconnected reader).
if(AIN_SANITIZER_BUILD_DIR)
  foreach(name engine_cli shutdown crash_restart review_publish many_nodes api_leak api_videos
                  api_events)
    add_test(NAME asan.it.${name} COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/${name}.sh)
    set_tests_properties(asan.it.${name} PROPERTIES LABELS asan TIMEOUT 900 ENVIRONMENT
      "AIN_BIN=${AIN_SANITIZER_BUILD_DIR}/ain;AIN_SOURCE_DIR=${CMAKE_SOURCE_DIR};AIN_BUILD_DIR=${AIN_SANITIZER_BUILD_DIR};ASAN_OPTIONS=detect_leaks=1;LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp")
  endforeach()
endif()

# Short libFuzzer runs (tests/fuzz, built with clang in a sibling dir by tools/test.sh) so every
# test run fuzzes each target a little, starting from its seed corpus (which holds a regression
# seed for every past finding). Longer runs: tools/fuzz.sh, docs/testing.md.
set(AIN_FUZZ_BUILD_DIR "" CACHE PATH "Build dir holding the libFuzzer targets (AIN_FUZZ=ON)")
set(AIN_FUZZ_SECONDS 25 CACHE STRING "Seconds each fuzz.* test fuzzes its target")
if(AIN_FUZZ_BUILD_DIR)
  foreach(target message config captions trends)
    add_test(NAME fuzz.${target} COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh ${target}
                                         ${AIN_FUZZ_SECONDS} ${AIN_FUZZ_BUILD_DIR})
    set_tests_properties(fuzz.${target} PROPERTIES LABELS fuzz TIMEOUT 300)
  endforeach()
endif()

# The soak benchmark's short form (bench/soak.c): 10,000 tasks through the engine on SQLite and on a
# throwaway PostgreSQL, sampled every 100 ms (a quiet machine drains them in about a second, a
# loaded one in ~20 s); fails if the engine's RSS at the end exceeds the after-warm-up sample by
# more than 25% + 16 MiB, or if not every task finished.
add_test(NAME bench.soak_short COMMAND bash ${CMAKE_SOURCE_DIR}/bench/soak.sh 10000 both)
set_tests_properties(bench.soak_short PROPERTIES LABELS integration TIMEOUT 600 ENVIRONMENT
  "AIN_BUILD_DIR=${CMAKE_BINARY_DIR};AIN_SOAK_SAMPLE_MS=100")

# bench/api's short form (bench/api.c, bench/api_short.sh): wrk and the constant-rate client against
# a real API server and engine for about a second each; checks that it runs, every request succeeds
# and the figures are sane, never the bars (docs/benchmarks.md).
add_test(NAME bench.api_short COMMAND bash ${CMAKE_SOURCE_DIR}/bench/api_short.sh)
set_tests_properties(bench.api_short PROPERTIES LABELS integration TIMEOUT 300 ENVIRONMENT
  "AIN_BUILD_DIR=${CMAKE_BINARY_DIR}")
