# Turns a text file into a C++ source defining `std::string_view NAME()` (cmake -P, at build time).
# -DIN=file -DOUT=file.cc -DNAME=mr::DashboardHtml -DHEADER=master/http_api.h
file(READ "${IN}" content)
string(FIND "${content}" ")mr_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string delimiter )mr_embed\"")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by embed.cmake; do not edit.\n#include \"${HEADER}\"\n\nstd::string_view ${NAME}() {\n  static constexpr char kText[] = R\"mr_embed(${content})mr_embed\";\n  return {kText, sizeof(kText) - 1};\n}\n")
file(RENAME "${OUT}.tmp" "${OUT}")
