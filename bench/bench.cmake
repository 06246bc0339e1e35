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
