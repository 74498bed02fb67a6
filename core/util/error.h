// Errors a user can cause (bad file, bad config value): one exception type.
#pragma once
#include <stdexcept>
#include <string>

namespace fan {

// Thrown for user-caused problems. The message names the file or field and
// what was expected; the CLI prints it and exits non-zero, the GUI shows it.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace fan
