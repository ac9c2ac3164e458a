# fuzz/fuzz.cmake -- libFuzzer harness for the LIME/ILDG reader, included from
# tests/io/CMakeLists.txt (so no add_subdirectory is needed). Built with clang
# -fsanitize=fuzzer,address,undefined from the sources the reader needs (target fuzz_lime,
# built by the test io_fuzz_build); the CTest io_fuzz_lime (label slow) runs it for
# LATFLOW_FUZZ_SECONDS (default 20) seconds.
# Skipped with a message when clang or its libFuzzer runtime is missing.
set(LATFLOW_FUZZ_SECONDS 20 CACHE STRING "seconds the io_fuzz_lime test fuzzes")
find_program(LF_CLANG clang)
set(lf_fuzz_ok FALSE)
if(LF_CLANG)
  set(probe ${CMAKE_BINARY_DIR}/fuzz_probe.c)
  file(WRITE ${probe} "#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND ${LF_CLANG} -fsanitize=fuzzer,address ${probe} -o ${CMAKE_BINARY_DIR}/fuzz_probe
                  RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(probe_rc EQUAL 0)
    set(lf_fuzz_ok TRUE)
  endif()
endif()
if(NOT lf_fuzz_ok)
  message(STATUS "latflow: clang with libFuzzer not found; the io_fuzz_lime test is skipped")
  return()
endif()
set(fz ${CMAKE_SOURCE_DIR})
file(GLOB fuzz_srcs CONFIGURE_DEPENDS
  ${fz}/src/core/*.c ${fz}/src/lattice/*.c ${fz}/src/group/*.c ${fz}/src/field/*.c
  ${fz}/src/action/*.c ${fz}/src/observe/*.c ${fz}/src/io/*.c)
list(APPEND fuzz_srcs ${fz}/fuzz/fuzz_lime.c)
set(fuzz_bin ${CMAKE_BINARY_DIR}/fuzz_lime)
find_package(ZLIB REQUIRED)
add_custom_command(OUTPUT ${fuzz_bin}
  COMMAND ${LF_CLANG} -std=c17 -O1 -g -fopenmp -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -include ${fz}/fuzz/clang_compat.h -I${fz}/include -I${fz}/src/io ${fuzz_srcs}
          -o ${fuzz_bin} -lz -lm
  DEPENDS ${fuzz_srcs} ${fz}/include/latflow/io.h ${fz}/src/io/internal.h
  COMMENT "Building libFuzzer harness fuzz_lime (clang)" VERBATIM)
# Not part of ALL (a clang+ASan build of ~30 files on every change would slow everyone's
# builds): the test fixture io_fuzz_build builds it right before io_fuzz_lime runs.
add_custom_target(fuzz_lime DEPENDS ${fuzz_bin})
add_test(NAME io_fuzz_build COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target fuzz_lime)
set_tests_properties(io_fuzz_build PROPERTIES LABELS "slow;io" TIMEOUT 300
  FIXTURES_SETUP lf_fuzz_bin)
set(fuzz_work ${CMAKE_BINARY_DIR}/fuzz_work)
add_test(NAME io_fuzz_lime
  COMMAND sh -c "rm -rf '${fuzz_work}' && mkdir -p '${fuzz_work}/corpus' && '${fuzz_bin}' -max_total_time=${LATFLOW_FUZZ_SECONDS} -max_len=16384 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix='${fuzz_work}/' '${fuzz_work}/corpus' '${fz}/fuzz/seeds' '${fz}/tests/io/corpus'")
set_tests_properties(io_fuzz_lime PROPERTIES LABELS "slow;io" TIMEOUT 120
  ENVIRONMENT "OMP_NUM_THREADS=1" FIXTURES_REQUIRED lf_fuzz_bin)
