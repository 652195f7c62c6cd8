// The real agentd binary started as a user starts it: flags, data-dir ownership, health and
// reflection over gRPC, agentctl talking to it, and clean shutdown on signals.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/descriptor.pb.h>

#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "sdk/client.h"
#include "support/daemon_process.h"
#include "support/reflection_client.h"

namespace {

using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using testing_support::BinaryPath;
using testing_support::CommandResult;
using testing_support::DaemonProcess;
using testing_support::RunCommand;
using testing_support::TempDir;

DaemonProcess StartDaemon(const std::string& data_dir) { return testing_support::StartDaemonOrThrow(data_dir); }

TEST(DaemonTest, ServesHealthToTheSdkAndAgentctl) {
  TempDir dir;
  DaemonProcess daemon = StartDaemon(dir.Join("data"));

  sdk::ClientOptions options;
  options.address = daemon.address();
  auto client = sdk::Client::Create(options);
  ASSERT_TRUE(client.ok());
  auto health = (*client)->Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
  EXPECT_EQ(*(*client)->Health("agentd.v1.ModelService"), "SERVING");
  EXPECT_EQ(*(*client)->Health("no.such.Service"), "SERVICE_UNKNOWN");

  CommandResult agentctl = RunCommand({BinaryPath("agentctl"), "--addr", daemon.address(), "health"});
  EXPECT_EQ(agentctl.exit_code, 0) << agentctl.err;
  EXPECT_EQ(agentctl.out, "SERVING\n");

  CommandResult unknown = RunCommand(
      {BinaryPath("agentctl"), "--addr", daemon.address(), "health", "--service", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.out, "SERVICE_UNKNOWN\n");
}

TEST(DaemonTest, AnnouncesEveryServiceThroughReflection) {
  TempDir dir;
  DaemonProcess daemon = StartDaemon(dir.Join("data"));
  // Both versions: current grpcurl, grpcui and Postman ask v1 first, older clients v1alpha.
  for (const std::string version : {"v1alpha", "v1"}) {
    auto services = testing_support::ListServicesByReflection(daemon.address(), version);
    ASSERT_TRUE(services.ok()) << version << ": " << services.status();
    EXPECT_THAT(*services, IsSupersetOf({"agentd.v1.AgentService", "agentd.v1.MemoryService",
                                         "agentd.v1.ModelService", "agentd.v1.ToolService",
                                         "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                         "grpc.reflection.v1alpha.ServerReflection"}))
        << version;
  }
}

TEST(DaemonTest, ReflectionV1DescribesTheApiWithItsImportsAndNamesWhatItLacks) {
  TempDir dir;
  DaemonProcess daemon = StartDaemon(dir.Join("data"));
  auto stub = grpc::reflection::v1::ServerReflection::NewStub(
      grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub->ServerReflectionInfo(&context);
  auto ask = [&](const grpc::reflection::v1::ServerReflectionRequest& request) {
    grpc::reflection::v1::ServerReflectionResponse response;
    EXPECT_TRUE(stream->Write(request));
    EXPECT_TRUE(stream->Read(&response));
    return response;
  };
  grpc::reflection::v1::ServerReflectionRequest request;
  request.set_file_containing_symbol("agentd.v1.ModelService.Generate");
  auto found = ask(request);
  ASSERT_TRUE(found.has_file_descriptor_response()) << found.DebugString();
  std::vector<std::string> files;
  for (const std::string& bytes : found.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    files.push_back(file.name());
  }
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files[0], "agentd/v1/model.proto");
  EXPECT_THAT(files, ::testing::Contains("agentd/v1/common.proto")) << "imports come along";

  request.set_file_by_filename("agentd/v1/agent.proto");
  auto by_name = ask(request);
  ASSERT_TRUE(by_name.has_file_descriptor_response());
  EXPECT_EQ(by_name.original_request().file_by_filename(), "agentd/v1/agent.proto");

  request.set_file_containing_symbol("agentd.v1.NoSuchThing");
  auto missing = ask(request);
  ASSERT_TRUE(missing.has_error_response());
  EXPECT_EQ(missing.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_THAT(missing.error_response().error_message(), ::testing::HasSubstr("agentd.v1.NoSuchThing"));

  auto empty = ask(grpc::reflection::v1::ServerReflectionRequest());
  ASSERT_TRUE(empty.has_error_response());
  EXPECT_EQ(empty.error_response().error_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));

  request.set_all_extension_numbers_of_type("agentd.v1.GenerateRequest");
  EXPECT_TRUE(ask(request).has_all_extension_numbers_response());
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(DaemonTest, StopsCleanlyOnSigtermAndSigint) {
  TempDir dir;
  for (int signal_number : {SIGTERM, SIGINT}) {
    DaemonProcess daemon = StartDaemon(dir.Join("data"));
    daemon.Signal(signal_number);
    std::optional<int> code = daemon.WaitForExit(std::chrono::seconds(30));
    ASSERT_TRUE(code.has_value()) << "agentd did not exit after a signal";
    EXPECT_EQ(*code, 0) << daemon.Log();
    std::string log = daemon.Log();
    EXPECT_THAT(log, HasSubstr("\"msg\":\"shutting down\""));
    EXPECT_THAT(log, HasSubstr("\"msg\":\"stopped\""));
  }
}

TEST(DaemonTest, RefusesASecondDaemonOnTheSameDataDir) {
  TempDir dir;
  DaemonProcess first = StartDaemon(dir.Join("data"));
  CommandResult second = RunCommand({BinaryPath("agentd"), "--listen", "127.0.0.1:0",
                                     "--data-dir", dir.Join("data")});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("is in use by another agentd (pid " +
                                    std::to_string(first.pid()) + ")"));

  // After the first stops, the directory is free again and its state store is reopened.
  first.Signal(SIGTERM);
  ASSERT_EQ(first.WaitForExit(std::chrono::seconds(30)), 0);
  DaemonProcess third = StartDaemon(dir.Join("data"));
  EXPECT_THAT(third.Log(), HasSubstr("\"state_opens\":2"));
}

TEST(DaemonTest, ALockLeftByAKilledDaemonDoesNotBlockTheNextOne) {
  TempDir dir;
  {
    DaemonProcess crashed = StartDaemon(dir.Join("data"));
    crashed.Signal(SIGKILL);
    EXPECT_EQ(crashed.WaitForExit(std::chrono::seconds(30)), -1);
  }
  DaemonProcess next = StartDaemon(dir.Join("data"));
  EXPECT_THAT(next.Log(), HasSubstr("\"msg\":\"serving\""));
}

TEST(DaemonTest, BadFlagsExitNonZeroWithAMessage) {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  testing_support::WriteFile(dir.Join("file"), "x");
  testing_support::WriteFile(dir.Join("bad.json"), R"({"listen": "127.0.0.1:0", "colour": 1})");
  std::vector<Case> cases = {
      {{"--listen", "127.0.0.1:99999", "--data-dir", dir.Join("d")}, 2, "port must be a number"},
      {{"--listen", "not-an-address", "--data-dir", dir.Join("d")}, 2, "listen address"},
      {{"--listen", "127.0.0.1:0"}, 2, "data_dir is required"},
      {{"--listen", "127.0.0.1:0", "--data-dir", dir.Join("file/sub")}, 1, "cannot create"},
      {{"--listen", "127.0.0.1:0", "--data-dir", dir.Join("d"), "--log-level", "loud"}, 2, "log_level"},
      {{"--config", dir.Join("bad.json"), "--data-dir", dir.Join("d")}, 2, "\"colour\" is not a known setting"},
      {{"--config", dir.Join("missing.json"), "--data-dir", dir.Join("d")}, 2, "cannot open"},
      {{"--data-dir", dir.Join("d"), "--no-such-flag"}, 2, "no-such-flag"},
      {{"--listen", "127.0.0.1:0", "--data-dir", dir.Join("d"), "--model", dir.Join("nomodel")}, 1, "--model"},
      // Protected mode: reachable from other machines only with TLS and API tokens.
      {{"--listen", "0.0.0.0:0", "--data-dir", dir.Join("d")}, 2, "without TLS and API tokens would let anyone use this daemon"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {BinaryPath("agentd")};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    CommandResult result = RunCommand(argv);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.message << ": " << result.err;
    EXPECT_THAT(result.err + result.out, HasSubstr(c.message));
  }
}

TEST(DaemonTest, AddressAlreadyInUseIsAClearError) {
  TempDir dir;
  DaemonProcess first = StartDaemon(dir.Join("one"));
  CommandResult second = RunCommand({BinaryPath("agentd"), "--listen", first.address(),
                                     "--data-dir", dir.Join("two")});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("cannot listen on " + first.address()));
}

TEST(AgentctlTest, ScriptRunPrintsOutputAndFailsClearly) {
  TempDir dir;
  testing_support::WriteFile(dir.Join("ok.lua"), "print('result', json.encode({n = 6 * 7}))\n");
  CommandResult ok = RunCommand({BinaryPath("agentctl"), "script", "run", dir.Join("ok.lua")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "result\t{\"n\":42}\n");

  testing_support::WriteFile(dir.Join("escape.lua"), "print('before')\nos.execute('id')\n");
  CommandResult refused = RunCommand({BinaryPath("agentctl"), "script", "run", dir.Join("escape.lua")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.out, "before\n");
  EXPECT_THAT(refused.err, HasSubstr("escape.lua:2: os.execute is not allowed in the sandbox"));

  testing_support::WriteFile(dir.Join("calc.lua"), "print(tools.call('calculator', {expression = '6*7'}).result)\n"
                                                   "print(pcall(memory.search, {collection = 'x', query = 'y'}))\n");
  CommandResult calc = RunCommand({BinaryPath("agentctl"), "script", "run", dir.Join("calc.lua")});
  EXPECT_EQ(calc.exit_code, 0) << calc.err;
  EXPECT_THAT(calc.out, HasSubstr("42"));
  EXPECT_THAT(calc.out, HasSubstr("memory.search is not available here"));

  testing_support::WriteFile(dir.Join("loop.lua"), "while true do end\n");
  CommandResult loop = RunCommand({BinaryPath("agentctl"), "script", "run", "--max-instructions", "1000000", dir.Join("loop.lua")});
  EXPECT_EQ(loop.exit_code, 1);
  EXPECT_THAT(loop.err, HasSubstr("instruction budget (1000000) exhausted"));
}

// The bash completion script is made from the command tree, so it offers what the commands
// are: checked by completing in a real bash.
TEST(AgentctlTest, BashCompletionOffersTheCommandsAndOptions) {
  TempDir dir;
  CommandResult script = RunCommand({BinaryPath("agentctl"), "completion", "bash"});
  ASSERT_EQ(script.exit_code, 0) << script.err;
  testing_support::WriteFile(dir.Join("agentctl.bash"), script.out);
  auto complete = [&](const std::string& words) {
    CommandResult r = RunCommand({"/bin/bash", "-c",
                                  "source " + dir.Join("agentctl.bash") + "; COMP_WORDS=(" + words +
                                      "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _agentctl; echo \"${COMPREPLY[*]}\""});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(complete("agentctl ru"), "run runs\n");
  EXPECT_EQ(complete("agentctl memory sea"), "search\n");
  EXPECT_EQ(complete("agentctl --addr x:1 runs sh"), "show\n");
  EXPECT_EQ(complete("agentctl memory ingest --ba"), "--batch\n");
  EXPECT_EQ(complete("agentctl runs show --tr"), "--transcripts\n");
  // Every command's --help shows an example.
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{}, {"run"}, {"runs"}, {"memory"}, {"tools"}, {"chat"}, {"generate"}, {"completion"}}) {
    std::vector<std::string> argv = {BinaryPath("agentctl")};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.push_back("--help");
    CommandResult help = RunCommand(argv);
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_THAT(help.out, ::testing::ContainsRegex("Examples?:\n  agentctl ")) << (command.empty() ? "agentctl" : command[0]);
  }
}

TEST(AgentctlTest, VersionAndUnreachableDaemon) {
  CommandResult version = RunCommand({BinaryPath("agentctl"), "version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("agentctl 0."));

  // A port nothing listens on: bind-free port found by starting and stopping a daemon.
  TempDir dir;
  std::string address;
  {
    DaemonProcess daemon = StartDaemon(dir.Join("data"));
    address = daemon.address();
    // With a daemon: its version too (every response carries it).
    CommandResult both = RunCommand({BinaryPath("agentctl"), "--addr", address, "version"});
    EXPECT_EQ(both.exit_code, 0);
    EXPECT_THAT(both.out, ::testing::ContainsRegex("agentctl 0\\.[0-9.]+ \\(API agentd.v1\\)\nagentd 0\\.[0-9.]+ at " + address));
    daemon.Signal(SIGTERM);
    daemon.WaitForExit(std::chrono::seconds(30));
  }
  // Without one, agentctl's own version is still the answer, and the daemon's absence is said.
  CommandResult alone = RunCommand({BinaryPath("agentctl"), "--addr", address, "--timeout", "2", "version"});
  EXPECT_EQ(alone.exit_code, 0);
  EXPECT_THAT(alone.out, HasSubstr("agentctl 0."));
  EXPECT_THAT(alone.err, HasSubstr("cannot reach agentd at " + address));
  CommandResult health =
      RunCommand({BinaryPath("agentctl"), "--addr", address, "--timeout", "2", "health"});
  EXPECT_EQ(health.exit_code, 1);
  EXPECT_THAT(health.err, HasSubstr("cannot reach agentd at " + address));

  CommandResult usage = RunCommand({BinaryPath("agentctl")});
  EXPECT_NE(usage.exit_code, 0);
}

}  // namespace

namespace {

// TLS with API tokens, as a daemon reachable from other machines is served: a client that
// trusts the daemon's CA and sends a known token is served; plaintext, a client trusting another
// CA, and a missing or unknown token are refused, by the SDK and by agentctl alike.
TEST(DaemonTest, ServesTlsWithTokensAndRefusesEverythingElse) {
  TempDir dir;
  const std::string tls = std::string(AGENTD_TEST_DATA_DIR) + "/tls/";
  testing_support::WriteFile(dir.Join("config.json"), R"({
    "tls": {"cert_file": ")" + tls + R"(server.pem", "key_file": ")" + tls + R"(server.key"},
    "auth": {"tokens": [{"token": "token-of-acme-0000001", "tenant": "acme"}]}
  })");
  DaemonProcess daemon = testing_support::StartDaemonOrThrow(dir.Join("data"), {"--config", dir.Join("config.json")});

  auto list_collections = [&](const std::string& ca_file, const std::string& token) {
    sdk::ClientOptions options;
    options.address = daemon.address();
    options.tls_ca_file = ca_file;
    options.token = token;
    options.timeout_seconds = 5;
    auto client = sdk::Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    agentd::v1::ListCollectionsResponse response;
    return (*client)->memory().ListCollections((*client)->NewContext().get(), {}, &response);
  };
  grpc::Status served = list_collections(tls + "ca.pem", "token-of-acme-0000001");
  EXPECT_TRUE(served.ok()) << served.error_message();
  EXPECT_EQ(list_collections(tls + "ca.pem", "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(list_collections(tls + "ca.pem", "token-of-nobody-000001").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(list_collections("", "token-of-acme-0000001").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(list_collections(tls + "other_ca.pem", "token-of-acme-0000001").error_code(),
            grpc::StatusCode::UNAVAILABLE);

  CommandResult trusted = RunCommand({BinaryPath("agentctl"), "--addr", daemon.address(), "--tls-ca", tls + "ca.pem",
                                      "--token", "token-of-acme-0000001", "memory", "list"});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  CommandResult plaintext = RunCommand({BinaryPath("agentctl"), "--addr", daemon.address(), "--timeout", "3",
                                        "--token", "token-of-acme-0000001", "memory", "list"});
  EXPECT_EQ(plaintext.exit_code, 1);
  EXPECT_THAT(plaintext.err, HasSubstr("cannot reach agentd at " + daemon.address()));
}

}  // namespace
