#include "model_commands.h"

#include <cstdio>
#include <iostream>
#include <memory>

#include "google/protobuf/util/json_util.h"

namespace agentctl {
namespace {

using namespace agentd::v1;

struct SamplingFlags {
  float temperature = 0;
  float top_p = 0;
  uint32_t top_k = 0;
  float min_p = 0;
  float repetition_penalty = 0;
  int64_t seed = -1;
  uint32_t max_tokens = 256;
  std::vector<std::string> stop;
  std::string speculation = "auto";
  bool stats = false;

  void Add(CLI::App* command) {
    command->add_option("--max-tokens", max_tokens, "upper bound on generated tokens (default 256)");
    command->add_option("--temperature", temperature, "0 = greedy (default)");
    command->add_option("--top-p", top_p, "nucleus sampling mass");
    command->add_option("--top-k", top_k, "sample among the k most likely tokens");
    command->add_option("--min-p", min_p, "drop tokens below min-p × the best probability");
    command->add_option("--repetition-penalty", repetition_penalty, "HF repetition penalty (> 1 discourages)");
    command->add_option("--seed", seed, "sampler seed (reproducible output)");
    command->add_option("--stop", stop, "stop before this string (repeatable)");
    command->add_option("--speculation", speculation, "none, ngram or auto (default auto: n-gram drafts for greedy requests)")
        ->check(CLI::IsMember({"none", "ngram", "auto"}));
    command->add_flag("--stats", stats, "print token counts and speed to stderr");
  }
  SpeculationMode Mode() const {
    return speculation == "none" ? SPECULATION_MODE_NONE : speculation == "ngram" ? SPECULATION_MODE_NGRAM : SPECULATION_MODE_AUTO;
  }
  void Fill(SamplingParams* s) const {
    s->set_temperature(temperature);
    s->set_top_p(top_p);
    s->set_top_k(top_k);
    s->set_min_p(min_p);
    s->set_repetition_penalty(repetition_penalty);
    if (seed >= 0) s->set_seed(static_cast<uint64_t>(seed));
  }
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "agentctl: %s\n", message.c_str());
  return 1;
}

// Prints a stream's text as it arrives; returns the exit code.
template <typename Reader>
int PrintStream(Reader* reader, const std::string& address, bool stats) {
  GenerateResponse response;
  GenerationFinished finished;
  while (reader->Read(&response)) {
    if (!response.text().empty()) {
      std::fwrite(response.text().data(), 1, response.text().size(), stdout);
      std::fflush(stdout);
    }
    if (response.has_finished()) finished = response.finished();
  }
  grpc::Status status = reader->Finish();
  std::fputc('\n', stdout);
  if (!status.ok()) return Fail(std::string(sdk::FromGrpcStatus(status, address).message()));
  if (stats) {
    const double seconds = (finished.total_ms() - finished.time_to_first_token_ms()) / 1000.0;
    const uint64_t n = finished.usage().completion_tokens();
    std::fprintf(stderr, "[%s] prompt %llu tokens, generated %llu tokens, first token %.0f ms, %.1f tokens/s\n",
                 FinishReason_Name(finished.reason()).c_str(),
                 static_cast<unsigned long long>(finished.usage().prompt_tokens()),
                 static_cast<unsigned long long>(n), finished.time_to_first_token_ms(),
                 n > 1 && seconds > 0 ? (n - 1) / seconds : 0.0);
    if (finished.speculation().proposed() > 0) {
      std::fprintf(stderr, "[speculation %s] %llu drafted, %llu accepted in %llu verify steps\n",
                   SpeculationMode_Name(finished.speculation().mode()).c_str(),
                   static_cast<unsigned long long>(finished.speculation().proposed()),
                   static_cast<unsigned long long>(finished.speculation().accepted()),
                   static_cast<unsigned long long>(finished.speculation().verify_steps()));
    }
  }
  for (const ToolCall& call : finished.tool_calls()) {
    std::fprintf(stderr, "tool call: %s %s\n", call.name().c_str(), call.arguments_json().c_str());
  }
  return 0;
}

}  // namespace

std::function<int(sdk::Client&)> AddModelCommands(CLI::App* app) {
  auto generate_flags = std::make_shared<SamplingFlags>();
  auto prompt = std::make_shared<std::string>();
  CLI::App* generate = app->add_subcommand("generate", "complete a prompt with the daemon's model, streaming");
  generate->add_option("--prompt", *prompt, "prompt text")->required();
  generate->footer("Example:\n  agentctl generate --prompt \"DeepSeek-V3 is\" --max-tokens 32 --temperature 0.7 --seed 1");
  generate_flags->Add(generate);

  auto chat_flags = std::make_shared<SamplingFlags>();
  auto system = std::make_shared<std::string>();
  auto messages = std::make_shared<std::vector<std::string>>();
  CLI::App* chat = app->add_subcommand(
      "chat", "chat with the daemon's model; without --message, reads one user turn per stdin line");
  chat->add_option("--system", *system, "system prompt");
  chat->footer("Examples:\n  agentctl chat --system \"You are a research assistant.\" --message \"Summarise the DeepSeek-V3 report.\"\n"
               "  echo \"What is MLA?\" | agentctl chat");
  chat->add_option("--message", *messages, "a user message (repeatable: a conversation of user turns)");
  chat_flags->Add(chat);

  CLI::App* model = app->add_subcommand("model", "information about the daemon's model");
  model->footer("Example:\n  agentctl model info --json");
  model->require_subcommand(1);
  auto info_json = std::make_shared<bool>(false);
  CLI::App* info = model->add_subcommand("info", "print the loaded model's description");
  info->add_flag("--json", *info_json, "print JSON");

  return [=](sdk::Client& client) -> int {
    if (generate->parsed()) {
      GenerateRequest request;
      request.set_prompt(*prompt);
      request.set_max_tokens(generate_flags->max_tokens);
      generate_flags->Fill(request.mutable_sampling());
      request.mutable_speculation()->set_mode(generate_flags->Mode());
      for (const std::string& s : generate_flags->stop) request.add_stop(s);
      auto context = client.NewContext(false);
      auto reader = client.models().Generate(context.get(), request);
      return PrintStream(reader.get(), client.address(), generate_flags->stats);
    }
    if (chat->parsed()) {
      ChatRequest request;
      if (!system->empty()) {
        auto* m = request.add_messages();
        m->set_role(ROLE_SYSTEM);
        m->set_content(*system);
      }
      request.set_max_tokens(chat_flags->max_tokens);
      chat_flags->Fill(request.mutable_sampling());
      request.mutable_speculation()->set_mode(chat_flags->Mode());
      for (const std::string& s : chat_flags->stop) request.add_stop(s);
      auto run_turn = [&](const std::string& user) -> std::pair<int, std::string> {
        auto* m = request.add_messages();
        m->set_role(ROLE_USER);
        m->set_content(user);
        auto context = client.NewContext(false);
        auto reader = client.models().Chat(context.get(), request);
        std::string reply;
        GenerateResponse response;
        GenerationFinished finished;
        while (reader->Read(&response)) {
          std::fwrite(response.text().data(), 1, response.text().size(), stdout);
          std::fflush(stdout);
          reply += response.text();
          if (response.has_finished()) finished = response.finished();
        }
        grpc::Status status = reader->Finish();
        std::fputc('\n', stdout);
        if (!status.ok()) return {Fail(std::string(sdk::FromGrpcStatus(status, client.address()).message())), ""};
        if (chat_flags->stats) {
          std::fprintf(stderr, "[%s] %llu tokens\n", FinishReason_Name(finished.reason()).c_str(),
                       static_cast<unsigned long long>(finished.usage().completion_tokens()));
        }
        return {0, reply};
      };
      auto add_reply = [&](const std::string& reply) {
        auto* m = request.add_messages();
        m->set_role(ROLE_ASSISTANT);
        m->set_content(reply);
      };
      if (!messages->empty()) {
        for (const std::string& user : *messages) {
          auto [code, reply] = run_turn(user);
          if (code != 0) return code;
          add_reply(reply);
        }
        return 0;
      }
      std::string line;
      while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        auto [code, reply] = run_turn(line);
        if (code != 0) return code;
        add_reply(reply);
      }
      return 0;
    }
    if (info->parsed()) {
      ModelInfoResponse response;
      grpc::Status status = client.models().ModelInfo(client.NewContext().get(), ModelInfoRequest(), &response);
      if (!status.ok()) return Fail(std::string(sdk::FromGrpcStatus(status, client.address()).message()));
      if (*info_json) {
        std::string json;
        google::protobuf::util::JsonPrintOptions options;
        options.always_print_primitive_fields = true;
        options.preserve_proto_field_names = true;
        (void)google::protobuf::util::MessageToJsonString(response, &json, options);
        std::printf("%s\n", json.c_str());
      } else {
        std::printf("%s (%s, %s)\n  parameters %.1fM, active per token %.1fM\n  vocab %u, context %u, hidden %u, layers %u\n"
                    "  experts %u (top-%u)%s\n  device %s\n  embeddings %s (%u dimensions, %s pooling)\n",
                    response.name().c_str(), response.architecture().c_str(), response.weight_dtype().c_str(),
                    response.parameters() / 1e6, response.active_parameters() / 1e6, response.vocab_size(),
                    response.context_length(), response.hidden_size(), response.num_layers(), response.num_experts(),
                    response.experts_per_token(), response.has_mtp() ? ", MTP layer" : "", response.device().c_str(),
                    response.embedding_model().c_str(), response.embedding_dimension(), response.embedding_pooling().c_str());
        const ServingStats& serving = response.serving();
        std::printf("  serving: %llu requests, %u running, %u queued, %u preempted waiting; mean batch %.1f (largest %llu)\n"
                    "  KV blocks %llu/%llu in use (%llu cached prefix), %llu evicted, %llu preemptions; prefix cache "
                    "saved %llu of %llu prompt tokens\n",
                    static_cast<unsigned long long>(serving.requests()), serving.running(), serving.waiting(),
                    serving.preempted_waiting(), serving.mean_batch_sequences(),
                    static_cast<unsigned long long>(serving.max_batch_sequences()),
                    static_cast<unsigned long long>(serving.kv_blocks_used()),
                    static_cast<unsigned long long>(serving.kv_blocks_total()),
                    static_cast<unsigned long long>(serving.kv_blocks_cached()),
                    static_cast<unsigned long long>(serving.evicted_blocks()),
                    static_cast<unsigned long long>(serving.preemptions()),
                    static_cast<unsigned long long>(serving.prefix_hit_tokens()),
                    static_cast<unsigned long long>(serving.prefix_hit_tokens() + serving.prefill_tokens()));
      }
      return 0;
    }
    return -1;
  };
}

}  // namespace agentctl
