# cmake -DTEST=path -DREPORTS=dir -P MrSanitizerCheck.cmake
# Runs one test binary of a sanitizer build and fails it when any process it started (itself, the
# masters and workers it spawns, the processes those spawn) wrote a sanitizer report. The test's
# environment (cmake/MrTest.cmake) sends every report to a file REPORTS/report.PID (log_path in
# ASAN_OPTIONS, UBSAN_OPTIONS, TSAN_OPTIONS), so reports are seen even from processes whose logs
# the test never reads or deletes.
file(REMOVE_RECURSE "${REPORTS}")
file(MAKE_DIRECTORY "${REPORTS}")
execute_process(COMMAND "${TEST}" RESULT_VARIABLE rc)
file(GLOB reports "${REPORTS}/report.*")
list(LENGTH reports n)
foreach(r IN LISTS reports)
  file(READ "${r}" text)
  message("==== sanitizer report ${r}\n${text}")
endforeach()
if(n GREATER 0)
  message(FATAL_ERROR "${n} process(es) wrote a sanitizer report (above; kept in ${REPORTS})")
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TEST} exited with ${rc}")
endif()
