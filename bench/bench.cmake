# Benchmarks (not tests): built with the project, run by hand; figures in docs/benchmarks.md.
add_executable(bench_queue ${CMAKE_SOURCE_DIR}/bench/queue.c)
target_link_libraries(bench_queue PRIVATE ain_core)
set_target_properties(bench_queue PROPERTIES ENABLE_EXPORTS ON)
add_executable(bench_reload ${CMAKE_SOURCE_DIR}/bench/reload.c)
target_link_libraries(bench_reload PRIVATE ain_core)
target_include_directories(bench_reload PRIVATE ${CMAKE_SOURCE_DIR}/engine)
