#include "tool_commands.h"

#include "nlohmann/json.hpp"
#include "engine/json_nesting.h"

#include <cstdio>
#include <memory>

namespace agentctl {
namespace {

using namespace agentd::v1;

int Fail(const grpc::Status& status, const sdk::Client& client) {
  std::fprintf(stderr, "agentctl: %s\n", std::string(sdk::FromGrpcStatus(status, client.address()).message()).c_str());
  return 1;
}

}  // namespace

std::function<int(sdk::Client&)> AddToolCommands(CLI::App* app) {
  CLI::App* tools = app->add_subcommand("tools", "the daemon's tools");
  tools->footer("Examples:\n  agentctl tools list\n  agentctl tools call calculator --args '{\"expression\": \"6*7\"}'\n"
                "Writing tools: docs/tools.md");
  tools->require_subcommand(1);
  CLI::App* list = tools->add_subcommand("list", "list tools with their argument schemas");
  auto name = std::make_shared<std::string>();
  auto args = std::make_shared<std::string>("{}");
  auto timeout_ms = std::make_shared<uint32_t>(0);
  CLI::App* call = tools->add_subcommand("call", "invoke a tool and print its JSON result");
  call->add_option("name", *name, "tool name")->required();
  call->add_option("--args", *args, "arguments as a JSON object (default {})");
  call->add_option("--timeout-ms", *timeout_ms, "time limit in milliseconds (default: the daemon's)");
  CLI::App* reload = tools->add_subcommand("reload", "re-read the daemon's tools directory");

  return [=](sdk::Client& client) -> int {
    if (list->parsed()) {
      ListToolsResponse response;
      grpc::Status status = client.tools().ListTools(client.NewContext().get(), ListToolsRequest(), &response);
      if (!status.ok()) return Fail(status, client);
      for (const Tool& t : response.tools()) {
        std::printf("%-20s %-8s %s\n  args: %s\n", t.name().c_str(), t.origin() == Tool::ORIGIN_LUA ? t.file().c_str() : "builtin",
                    t.description().c_str(), t.parameters_json_schema().c_str());
      }
      return 0;
    }
    if (call->parsed()) {
      // Said about the flag the person typed, before the daemon would say it about its field.
      if (engine::JsonNestedTooDeeply(*args)) {
        std::fprintf(stderr, "agentctl tools call: --args: nested more than %d levels deep\n", engine::kMaxJsonNesting);
        return 2;
      }
      const nlohmann::json parsed = nlohmann::json::parse(*args, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        std::fprintf(stderr, "agentctl tools call: --args: %s (e.g. --args '{\"expression\": \"6*7\"}')\n",
                     parsed.is_discarded() ? "not valid JSON" : "must be a JSON object");
        return 2;
      }
      InvokeToolRequest request;
      request.set_name(*name);
      request.set_arguments_json(*args);
      request.set_timeout_ms(*timeout_ms);
      InvokeToolResponse response;
      grpc::Status status = client.tools().InvokeTool(client.NewContext(false).get(), request, &response);
      if (!status.ok()) return Fail(status, client);
      for (const std::string& line : response.logs()) std::fprintf(stderr, "%s\n", line.c_str());
      std::printf("%s\n", response.result_json().c_str());
      return 0;
    }
    if (reload->parsed()) {
      ReloadResponse response;
      grpc::Status status = client.tools().Reload(client.NewContext().get(), ReloadRequest(), &response);
      if (!status.ok()) return Fail(status, client);
      std::printf("loaded %d tools\n", response.loaded_size());
      for (const ToolLoadError& e : response.errors()) std::fprintf(stderr, "not loaded: %s: %s\n", e.file().c_str(), e.message().c_str());
      return response.errors_size() == 0 ? 0 : 1;
    }
    return -1;
  };
}

}  // namespace agentctl
