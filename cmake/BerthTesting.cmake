# Test helpers, included before the source folders so that a folder can keep the unit tests of
# its pure logic beside the code (`base/parse_number_test.cc`, registered in base/CMakeLists.txt).
if(BERTH_BUILD_TESTS)
  enable_testing()
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()

# berth_unit_test(NAME SOURCES... [LIBS libraries...]): a gtest binary, its tests named
# "unit.<Suite>.<Test>" and labelled `unit` (pure logic, no root, no kernel state). A no-op
# without BERTH_BUILD_TESTS.
function(berth_unit_test name)
  if(NOT BERTH_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(PARSE_ARGV 1 TEST "" "" "LIBS")
  add_executable(${name} ${TEST_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE GTest::gtest_main GTest::gmock ${TEST_LIBS})
  target_compile_definitions(${name} PRIVATE BERTH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  gtest_discover_tests(${name} TEST_PREFIX "unit." DISCOVERY_TIMEOUT 30 PROPERTIES LABELS unit)
endfunction()
