# Benchmarks (not tests): built with the project, run by hand; figures in docs/benchmarks.md.
add_executable(bench_queue ${CMAKE_SOURCE_DIR}/bench/queue.c ${CMAKE_SOURCE_DIR}/bench/common.c
               ${CMAKE_SOURCE_DIR}/bench/otlp_sink.c)
target_link_libraries(bench_queue PRIVATE ain_engine)
set_target_properties(bench_queue PROPERTIES ENABLE_EXPORTS ON)
# bench/queue --traced: the drain with metrics + tracing on (a live OTLP receiver) vs off (issue
# 11); its short form runs in the suite without enforcing the bar.
add_test(NAME bench.queue_traced_short COMMAND bench_queue --traced --short)
add_executable(bench_reload ${CMAKE_SOURCE_DIR}/bench/reload.c)
target_link_libraries(bench_reload PRIVATE ain_engine)
target_include_directories(bench_reload PRIVATE ${CMAKE_SOURCE_DIR}/engine)
add_executable(bench_pgqueue ${CMAKE_SOURCE_DIR}/bench/pgqueue.c ${CMAKE_SOURCE_DIR}/bench/common.c)
target_link_libraries(bench_pgqueue PRIVATE ain_engine)
set_target_properties(bench_pgqueue PROPERTIES ENABLE_EXPORTS ON)
add_executable(bench_soak ${CMAKE_SOURCE_DIR}/bench/soak.c ${CMAKE_SOURCE_DIR}/bench/common.c)
target_link_libraries(bench_soak PRIVATE ain_engine)
set_target_properties(bench_soak PROPERTIES ENABLE_EXPORTS ON)
# bench/metrics: the drain with metrics on vs off, and /metrics with 100,000 tasks (issue 11). Its
# short form runs in the suite without enforcing the timing bars.
add_executable(bench_metrics ${CMAKE_SOURCE_DIR}/bench/metrics.c ${CMAKE_SOURCE_DIR}/bench/common.c)
target_link_libraries(bench_metrics PRIVATE ain_engine)
target_include_directories(bench_metrics PRIVATE ${CMAKE_BINARY_DIR}/include/api
                           ${CMAKE_BINARY_DIR}/include/obs)
set_target_properties(bench_metrics PROPERTIES ENABLE_EXPORTS ON)
add_test(NAME bench.metrics_short COMMAND bench_metrics --short)
set_tests_properties(bench.metrics_short PROPERTIES LABELS bench TIMEOUT 600)
# bench/api: wrk (bench/api.lua) and a constant-rate client (bench/rate.c) against the API server.
add_executable(bench_api ${CMAKE_SOURCE_DIR}/bench/api.c ${CMAKE_SOURCE_DIR}/bench/rate.c
               ${CMAKE_SOURCE_DIR}/bench/common.c)
target_link_libraries(bench_api PRIVATE ain_engine)
set_target_properties(bench_api PROPERTIES ENABLE_EXPORTS ON)
# bench/vector (docs/benchmarks.md "Vector search"): exact search vs the memory-bandwidth floor,
# and the planner's de-duplication of 10,000 feed items; the short form runs in ctest.
add_executable(bench_vector ${CMAKE_SOURCE_DIR}/bench/vector.c)
target_link_libraries(bench_vector PRIVATE ain_engine)
add_test(NAME bench.vector_short COMMAND bench_vector --short)
set_tests_properties(bench.vector_short PROPERTIES LABELS bench TIMEOUT 600)
# bench/planner: 10,000 feed items parsed and de-duplicated by planner.lua (issue 15); its short
# form (1,000 items, the bar printed, not enforced) runs in the suite and checks the result.
add_executable(bench_planner ${CMAKE_SOURCE_DIR}/bench/planner.c)
target_link_libraries(bench_planner PRIVATE ain_engine)
set_target_properties(bench_planner PROPERTIES ENABLE_EXPORTS ON)
add_test(NAME bench.planner_short COMMAND bench_planner --short)
set_tests_properties(bench.planner_short PROPERTIES LABELS bench TIMEOUT 300)
# bench/s3: PUT/GET of a 100 MB object through the S3 object store vs curl alone (issue 15,
# bench/s3.sh); its short form (8 MB, one round, bars not enforced) runs in the suite.
add_executable(bench_s3 ${CMAKE_SOURCE_DIR}/bench/s3.c)
target_link_libraries(bench_s3 PRIVATE ain_engine)
add_test(NAME bench.s3_short COMMAND bash ${CMAKE_SOURCE_DIR}/bench/s3.sh 8 1)
set_tests_properties(bench.s3_short PROPERTIES LABELS bench TIMEOUT 120 ENVIRONMENT
  "AIN_BENCH_S3=$<TARGET_FILE:bench_s3>")
# bench/upload: 20 concurrent 50 MB YouTube resumable uploads through the youtube channel kind vs
# curl alone against the same local test server, RSS and MB/s (issue 14, bench/upload.sh).
add_executable(bench_upload ${CMAKE_SOURCE_DIR}/bench/upload.c)
target_link_libraries(bench_upload PRIVATE ain_engine)
# Its short form (6 uploads of 6 MiB in 512 KiB chunks, one round) checks every post's bytes and that
# no upload grows the process by more than its chunk + 1 MiB; the bars are printed, not enforced.
add_test(NAME bench.upload_short COMMAND bash ${CMAKE_SOURCE_DIR}/bench/upload.sh --short)
set_tests_properties(bench.upload_short PROPERTIES LABELS bench TIMEOUT 120 ENVIRONMENT
  "AIN_BENCH_UPLOAD=$<TARGET_FILE:bench_upload>")
