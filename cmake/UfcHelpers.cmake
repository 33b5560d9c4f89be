# Helpers shared by src/, tests/ and bench/.

# ufc_cc_library(NAME SRCS DEPS): one concern of the library (src/<concern>/), compiled as an
# OBJECT library whose objects are folded into the single installed archive `ufc`.
function(ufc_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${ARG_NAME} OBJECT ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  target_compile_options(${ARG_NAME} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
  set_property(GLOBAL APPEND PROPERTY UFC_OBJECT_LIBS ${ARG_NAME})
endfunction()

# ufc_cc_test(NAME SRCS DEPS [LABELS] [ENV]): a GoogleTest binary registered with ctest;
# ENV sets environment variables (VAR=value) for each of its tests.
# Tests labelled `core` also run under ASan+UBSan in scripts/test.sh.
function(ufc_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS;ENV" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${ARG_NAME} PRIVATE ufc ufc_testing GTest::gmock GTest::gtest_main ${ARG_DEPS})
  target_compile_options(${ARG_NAME} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 120 ENVIRONMENT "${ARG_ENV}")
endfunction()
