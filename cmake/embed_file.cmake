# Writes OUTPUT, a C++ file defining `extern const char SYMBOL[]` in NAMESPACE with the
# bytes of INPUT, as a raw string literal. Run with cmake -P at build time:
#   cmake -DINPUT=page.html -DOUTPUT=page.cc -DSYMBOL=kPage -DNAMESPACE=ns -P embed_file.cmake
file(READ "${INPUT}" content)
string(FIND "${content}" ")ufc_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )ufc_embed\"")
endif()
file(WRITE "${OUTPUT}.tmp"
     "// Generated from ${INPUT} by cmake/embed_file.cmake. Do not edit.\n"
     "namespace ${NAMESPACE} {\n"
     "extern const char ${SYMBOL}[];\n"
     "const char ${SYMBOL}[] = R\"ufc_embed(${content})ufc_embed\";\n"
     "}  // namespace ${NAMESPACE}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
