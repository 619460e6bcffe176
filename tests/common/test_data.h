// Locating the shared test data (../shared, or CORRAL_TEST_DATA). Missing data fails the test
// loudly: tests are never silently skipped.
#pragma once

#include <string>

namespace corral::testing {

// Root of the shared data: $CORRAL_TEST_DATA, else <source dir>/../shared.
std::string test_data_dir();
// test_data_dir() + "/" + rel; fails the current test (ADD_FAILURE) if it does not exist.
std::string test_data_path(const std::string& rel);
// Whole file as bytes; fails the current test if unreadable.
std::string read_file(const std::string& path);

}  // namespace corral::testing
