#include "engine/shipped_models.h"

#include <unistd.h>

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace engine {

absl::StatusOr<std::string> FindShippedModel(std::string_view name) {
  namespace fs = std::filesystem;
  std::vector<std::string> tried;
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path dir = executable.parent_path().parent_path() / "share" / "agentd" / "models" / std::string(name);
    if (fs::exists(dir / "config.json", error)) return dir.lexically_normal().string();
    tried.push_back(dir.lexically_normal().string());
  }
  return absl::NotFoundError(absl::StrCat("the shipped model ", std::string(name), " is missing (looked in ",
                                          tried.empty() ? "nothing: the executable's path is unknown" : absl::StrJoin(tried, ", "),
                                          "); reinstall agentd, or name a model directory"));
}

}  // namespace engine
