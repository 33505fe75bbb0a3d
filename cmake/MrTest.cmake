# mr_add_test(NAME name SOURCES a.cc ... LIBS lib ... LABEL unit|integration|fault [TIMEOUT s])
# Adds one GoogleTest binary as one ctest test with a label, so `ctest -L unit` runs a group alone.
function(mr_add_test)
  if(MR_FUZZ)
    return()  # a fuzzing build has the fuzz targets only
  endif()
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "MR_BIN=$<TARGET_FILE:mr>;MR_SOURCE_DIR=${PROJECT_SOURCE_DIR};MR_PLUGIN=$<TARGET_FILE:wordcount_plugin>")
endfunction()
