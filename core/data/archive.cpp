// Unpacking downloaded dataset archives (through the system's `tar`) and checking what they held.
#include "core/data/archive.h"

#include "core/util/error.h"

#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace fan::data::detail {

namespace fs = std::filesystem;

void extract_tar(const fs::path& archive, const fs::path& folder, const std::vector<std::string>& members) {
  std::vector<std::string> args = {"tar", "-xzf", archive.string(), "-C", folder.string()};
  args.insert(args.end(), members.begin(), members.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "tar", nullptr, nullptr, argv.data(), environ) != 0) {
    throw Error("cannot run `tar` to unpack " + archive.string() + " (is tar installed?)");
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error("`tar` could not unpack " + archive.string() + " (corrupt or incomplete archive)");
  }
}

size_t count_jpgs(const fs::path& folder) {
  size_t count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".jpg") ++count;
  }
  return count;
}

}  // namespace fan::data::detail
