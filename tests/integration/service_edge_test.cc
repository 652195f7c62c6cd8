// What one tenant can do to the daemon through the gRPC edge itself, on the real daemon: slow
// calls that hold threads, and how much they cost the others.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "sdk/client.h"
#include "support/daemon_process.h"

namespace {

using namespace agentd::v1;
using ::testing::HasSubstr;
using testing_support::DaemonProcess;
using testing_support::StartDaemonOrThrow;
using testing_support::TempDir;
using Json = nlohmann::json;

std::unique_ptr<sdk::Client> Connect(const DaemonProcess& daemon, const std::string& token, double timeout_seconds = 60) {
  sdk::ClientOptions options;
  options.address = daemon.address();
  options.token = token;
  options.timeout_seconds = timeout_seconds;
  auto client = sdk::Client::Create(options);
  EXPECT_TRUE(client.ok());
  return std::move(*client);
}

// A TCP listener on 127.0.0.1 that accepts connections and answers none of them until Release():
// an HTTP server a tool waits on for as long as the test wants.
class HoldingListener {
 public:
  HoldingListener() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    listen(listener_, 128);
    thread_ = std::thread([this] {
      while (true) {
        const int client = accept(listener_, nullptr, nullptr);
        if (client < 0) return;
        std::lock_guard<std::mutex> lock(mutex_);
        if (released_) {
          close(client);
          continue;
        }
        clients_.push_back(client);
        accepted_.notify_all();
      }
    });
  }
  ~HoldingListener() {
    Release();
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }
  int port() const { return port_; }
  // Waits (up to a minute, a guard against hangs) until `count` connections are held.
  bool WaitForConnections(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return accepted_.wait_for(lock, std::chrono::minutes(1), [&] { return clients_.size() >= count; });
  }
  // Closes every held connection, and each later one at once (the requests fail at once).
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    for (int client : clients_) close(client);
    clients_.clear();
  }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable accepted_;
  std::vector<int> clients_;
  bool released_ = false;
};

// gRPC runs every callback handler on a few threads of its own (two on a 2-core machine, at most
// 16). Tool calls, ingests, embeddings and a plan's top level at StartRun used to run there, so a
// tenant with a few slow calls in flight held up every call of every tenant. Here one tenant
// holds 24 tool calls on an HTTP server that does not answer; another tenant's calls, slow kinds
// included, must still be answered.
TEST(ServiceEdgeTest, OneTenantsSlowCallsLeaveEveryoneElseServed) {
  TempDir dir;
  HoldingListener held;
  std::filesystem::create_directories(dir.Join("tools"));
  testing_support::WriteFile(dir.Join("tools/wait.lua"),
                             "tool{ name = 'wait', description = 'Fetches a URL.', "
                             "params = {type = 'object', properties = {url = {type = 'string'}}, required = {'url'}}, "
                             "handler = function(args) return http.get(args.url, {timeout = 300}).status end }\n");
  testing_support::WriteFile(dir.Join("config.json"),
                             Json{{"auth", {{"tokens", {{{"token", "token-of-acme-0000001"}, {"tenant", "acme"}},
                                                        {{"token", "token-of-globex-00001"}, {"tenant", "globex"}}}}}},
                                  {"http_allowed_hosts", {"127.0.0.1:" + std::to_string(held.port())}}}
                                 .dump());
  DaemonProcess daemon =
      StartDaemonOrThrow(dir.Join("data"), {"--config", dir.Join("config.json"), "--tools-dir", dir.Join("tools")});
  auto acme = Connect(daemon, "token-of-acme-0000001", 600);
  // The other tenant's calls give up after 30 s: long enough for any machine, and they would
  // wait for the held calls (minutes) if those held gRPC's threads.
  auto globex = Connect(daemon, "token-of-globex-00001", 30);

  constexpr int kHeldCalls = 24;  // more than gRPC's callback threads on any machine (16 at most)
  std::vector<grpc::Status> held_status(kHeldCalls);
  std::vector<std::thread> callers;
  for (int i = 0; i < kHeldCalls; ++i) {
    callers.emplace_back([&, i] {
      InvokeToolRequest request;
      request.set_name("wait");
      request.set_arguments_json(Json{{"url", "http://127.0.0.1:" + std::to_string(held.port()) + "/"}}.dump());
      request.set_timeout_ms(300000);
      InvokeToolResponse response;
      held_status[i] = acme->tools().InvokeTool(acme->NewContext().get(), request, &response);
    });
  }
  ASSERT_TRUE(held.WaitForConnections(2)) << "the held tool calls never reached the listener";

  ListRunsResponse runs;
  grpc::Status listed = globex->agents().ListRuns(globex->NewContext().get(), ListRunsRequest(), &runs);
  EXPECT_TRUE(listed.ok()) << listed.error_code() << ": " << listed.error_message();
  InvokeToolRequest sum;
  sum.set_name("calculator");
  sum.set_arguments_json(R"({"expression": "6 * 7"})");
  InvokeToolResponse answer;
  grpc::Status called = globex->tools().InvokeTool(globex->NewContext().get(), sum, &answer);
  EXPECT_TRUE(called.ok()) << called.error_code() << ": " << called.error_message();
  EXPECT_THAT(answer.result_json(), HasSubstr("42"));
  StartRunRequest start;
  start.set_plan("quick");
  start.set_plan_source("plan{name = 'quick', run = function(ctx) return {content = 'ok'} end}");
  StartRunResponse started;
  grpc::Status run = globex->agents().StartRun(globex->NewContext().get(), start, &started);
  EXPECT_TRUE(run.ok()) << run.error_code() << ": " << run.error_message();

  // The held calls all end once the server lets go (none is lost in a queue).
  held.Release();
  for (std::thread& caller : callers) caller.join();
  for (const grpc::Status& status : held_status) {
    EXPECT_NE(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  }
}

}  // namespace
