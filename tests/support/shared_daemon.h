// One daemon per test suite, started on first use and kept for the rest of the binary's run,
// for suites whose tests only talk to it over gRPC. A daemon that fails to start fails each
// test (with its log) rather than skipping it.
#ifndef AGENTD_TESTS_SUPPORT_SHARED_DAEMON_H_
#define AGENTD_TESTS_SUPPORT_SHARED_DAEMON_H_

#include <string>
#include <vector>

#include "sdk/client.h"
#include "support/daemon_process.h"

namespace testing_support {

struct SharedDaemon {
  DaemonProcess* daemon = nullptr;
  sdk::Client* client = nullptr;
  std::string error;  // why it did not start
  TempDir* dir = nullptr;
};

// `name` keys the daemon; `config_json` (may be empty) is written to a config file passed with
// --config; `args` are appended to the command line.
const SharedDaemon& GetSharedDaemon(const std::string& name, const std::string& config_json,
                                    const std::vector<std::string>& args);

}  // namespace testing_support

#endif  // AGENTD_TESTS_SUPPORT_SHARED_DAEMON_H_
