#include "support/shared_daemon.h"

#include <cstdlib>
#include <map>

namespace testing_support {

const SharedDaemon& GetSharedDaemon(const std::string& name, const std::string& config_json,
                                    const std::vector<std::string>& args) {
  // Stopped at exit (static destructors of this file could run after gtest's).
  static auto* daemons = new std::map<std::string, SharedDaemon>();
  static const bool registered = [] {
    std::atexit([] {
      for (auto& [key, shared] : *daemons) {
        delete shared.client;
        delete shared.daemon;  // kills the process
        delete shared.dir;
      }
    });
    return true;
  }();
  (void)registered;
  SharedDaemon& shared = (*daemons)[name];
  if (shared.daemon != nullptr || !shared.error.empty()) return shared;
  shared.dir = new TempDir();
  std::vector<std::string> all_args = args;
  if (!config_json.empty()) {
    WriteFile(shared.dir->Join("agentd.json"), config_json);
    all_args.push_back("--config");
    all_args.push_back(shared.dir->Join("agentd.json"));
  }
  auto daemon = DaemonProcess::Start(shared.dir->Join("data"), all_args, &shared.error);
  if (!daemon.has_value()) return shared;
  shared.daemon = new DaemonProcess(std::move(*daemon));
  sdk::ClientOptions options;
  options.address = shared.daemon->address();
  shared.client = sdk::Client::Create(options)->release();
  return shared;
}

}  // namespace testing_support
