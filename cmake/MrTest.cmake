# mr_add_test(NAME name SOURCES a.cc ... LIBS lib ... LABEL unit|integration|fault [TIMEOUT s])
# Adds one GoogleTest binary as one ctest test with a label, so `ctest -L unit` runs a group alone.
# In a sanitizer build (MR_SANITIZE) the test runs through cmake/MrSanitizerCheck.cmake: a report
# from any process the test started fails it. TSan reads tests/tsan.supp (RocksDB, which Debian
# ships uninstrumented).
function(mr_add_test)
  if(MR_FUZZ)
    return()  # a fuzzing build has the fuzz targets only
  endif()
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  if(MR_SANITIZE)
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 3")  # sanitized processes run several times slower
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  set(env "MR_BIN=$<TARGET_FILE:mr>;MR_SOURCE_DIR=${PROJECT_SOURCE_DIR};MR_PLUGIN=$<TARGET_FILE:wordcount_plugin>")
  if(MR_SANITIZE)
    set(reports "${CMAKE_BINARY_DIR}/sanitizer-reports/${T_NAME}")
    add_test(NAME ${T_NAME} COMMAND ${CMAKE_COMMAND} -DTEST=$<TARGET_FILE:${T_NAME}> -DREPORTS=${reports}
             -P ${PROJECT_SOURCE_DIR}/cmake/MrSanitizerCheck.cmake)
    # ':' separates sanitizer options, so these paths must not hold one.
    list(APPEND env "ASAN_OPTIONS=log_path=${reports}/report"
                    "UBSAN_OPTIONS=log_path=${reports}/report:print_stacktrace=1"
                    "TSAN_OPTIONS=log_path=${reports}/report:suppressions=${PROJECT_SOURCE_DIR}/tests/tsan.supp")
  else()
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${env}")
endfunction()
