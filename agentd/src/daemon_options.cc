#include "agentd/daemon_options.h"

#include "engine/model.h"
#include "engine/shipped_models.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agentd/listen_address.h"
#include "engine/shipped_models.h"
#include "nlohmann/json.hpp"

namespace agentd {
namespace {

using Json = nlohmann::json;

absl::Status KeyError(const std::string& path, const std::string& key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("config ", path, ": \"", key, "\" ", why));
}

absl::Status ReadString(const std::string& path, const Json& object, const std::string& key,
                        std::string* out) {
  const Json& value = object.at(key);
  if (!value.is_string()) return KeyError(path, key, "must be a string");
  *out = value.get<std::string>();
  return absl::OkStatus();
}

template <typename T>
absl::Status ReadUnsigned(const std::string& path, const Json& object, const std::string& key,
                          const std::string& display_key, T* out) {
  const Json& value = object.at(key);
  if (!value.is_number_unsigned()) return KeyError(path, display_key, "must be a positive integer");
  uint64_t v = value.get<uint64_t>();
  if (v == 0 || v > std::numeric_limits<T>::max()) {
    return KeyError(path, display_key, "is out of range");
  }
  *out = static_cast<T>(v);
  return absl::OkStatus();
}

absl::Status ReadLimits(const std::string& path, const Json& object, RequestLimits* limits) {
  if (!object.is_object()) return KeyError(path, "limits", "must be an object");
  for (const auto& [key, value] : object.items()) {
    absl::Status status;
    if (key == "max_request_bytes") {
      status = ReadUnsigned(path, object, key, "limits.max_request_bytes", &limits->max_request_bytes);
    } else if (key == "max_field_bytes") {
      status = ReadUnsigned(path, object, key, "limits.max_field_bytes", &limits->max_field_bytes);
    } else if (key == "max_items") {
      status = ReadUnsigned(path, object, key, "limits.max_items", &limits->max_items);
    } else {
      status = KeyError(path, "limits." + key, "is not a known setting");
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadRuns(const std::string& path, const Json& object, RunOptions* runs) {
  if (!object.is_object()) return KeyError(path, "runs", "must be an object");
  for (const auto& [key, value] : object.items()) {
    absl::Status status;
    const std::string display = "runs." + key;
    if (key == "workers") {
      status = ReadUnsigned(path, object, key, display, &runs->workers);
    } else if (key == "deadline_seconds") {
      status = ReadUnsigned(path, object, key, display, &runs->deadline_seconds);
    } else if (key == "max_tokens") {
      status = ReadUnsigned(path, object, key, display, &runs->max_tokens);
    } else if (key == "max_tool_calls") {
      status = ReadUnsigned(path, object, key, display, &runs->max_tool_calls);
    } else if (key == "max_active_runs_per_tenant") {
      status = ReadUnsigned(path, object, key, display, &runs->max_active_runs_per_tenant);
    } else if (key == "max_stored_runs_per_tenant") {
      status = ReadUnsigned(path, object, key, display, &runs->max_stored_runs_per_tenant);
    } else if (key == "max_stored_bytes_per_tenant") {
      status = ReadUnsigned(path, object, key, display, &runs->max_stored_bytes_per_tenant);
    } else {
      status = KeyError(path, display, "is not a known setting");
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadMemory(const std::string& path, const Json& object, MemoryLimits* memory) {
  if (!object.is_object()) return KeyError(path, "memory", "must be an object");
  for (const auto& [key, value] : object.items()) {
    absl::Status status;
    const std::string display = "memory." + key;
    if (key == "max_stored_bytes_per_tenant") {
      status = ReadUnsigned(path, object, key, display, &memory->max_stored_bytes_per_tenant);
    } else if (key == "max_collections_per_tenant") {
      status = ReadUnsigned(path, object, key, display, &memory->max_collections_per_tenant);
    } else {
      status = KeyError(path, display, "is not a known setting");
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadEngine(const std::string& path, const Json& object, EngineServingOptions* engine) {
  if (!object.is_object()) return KeyError(path, "engine", "must be an object");
  for (const auto& [key, value] : object.items()) {
    absl::Status status;
    const std::string display = "engine." + key;
    if (key == "quantize") {
      status = ReadString(path, object, key, &engine->quantize);
    } else if (key == "device") {
      status = ReadString(path, object, key, &engine->device);
    } else if (key == "kv_cache_mb") {
      status = ReadUnsigned(path, object, key, display, &engine->kv_cache_mb);
    } else if (key == "max_running") {
      status = ReadUnsigned(path, object, key, display, &engine->max_running);
    } else if (key == "max_running_per_tenant") {
      status = ReadUnsigned(path, object, key, display, &engine->max_running_per_tenant);
    } else if (key == "max_batch_tokens") {
      status = ReadUnsigned(path, object, key, display, &engine->max_batch_tokens);
    } else if (key == "max_waiting") {
      status = ReadUnsigned(path, object, key, display, &engine->max_waiting);
    } else if (key == "max_streams") {
      status = ReadUnsigned(path, object, key, display, &engine->max_streams);
    } else if (key == "max_streams_per_tenant") {
      status = ReadUnsigned(path, object, key, display, &engine->max_streams_per_tenant);
    } else if (key == "prefix_caching") {
      if (!value.is_boolean()) {
        status = KeyError(path, display, "must be true or false");
      } else {
        engine->prefix_caching = value.get<bool>();
      }
    } else {
      status = KeyError(path, display, "is not a known setting");
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadAuth(const std::string& path, const Json& object, std::vector<ApiToken>* tokens) {
  if (!object.is_object()) return KeyError(path, "auth", "must be an object");
  for (const auto& [key, value] : object.items()) {
    if (key != "tokens") return KeyError(path, "auth." + key, "is not a known setting");
    if (!value.is_array()) return KeyError(path, "auth.tokens", "must be a list of {\"token\", \"tenant\"}");
    tokens->clear();
    for (size_t i = 0; i < value.size(); ++i) {
      const Json& entry = value[i];
      const std::string where = absl::StrCat("auth.tokens[", i, "]");
      if (!entry.is_object() || !entry.contains("token") || !entry.contains("tenant") || !entry["token"].is_string() ||
          !entry["tenant"].is_string() || (entry.contains("admin") && !entry["admin"].is_boolean())) {
        return KeyError(path, where, "must be {\"token\": STRING, \"tenant\": STRING[, \"admin\": BOOL]}");
      }
      ApiToken token{entry["token"].get<std::string>(), entry["tenant"].get<std::string>(), entry.value("admin", false)};
      if (token.token.size() < 16) return KeyError(path, where + ".token", "must be at least 16 characters");
      if (token.tenant.empty() || token.tenant.size() > 128 || token.tenant.find('\0') != std::string::npos ||
          token.tenant.find('/') != std::string::npos || token.tenant == "." || token.tenant == "..") {
        // A tenant names a directory under plans_dir.
        return KeyError(path, where + ".tenant", "must be 1..128 characters without '/' or NUL, and not \".\" or \"..\"");
      }
      for (size_t j = 0; j < tokens->size(); ++j) {
        // The same token for two tenants would make which one a caller acts for a guess.
        if ((*tokens)[j].token == token.token) {
          return KeyError(path, where + ".token", absl::StrCat("repeats auth.tokens[", j, "].token"));
        }
      }
      tokens->push_back(std::move(token));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadTls(const std::string& path, const Json& object, DaemonOptions* options) {
  if (!object.is_object()) return KeyError(path, "tls", "must be an object");
  for (const auto& [key, value] : object.items()) {
    absl::Status status;
    if (key == "cert_file") {
      status = ReadString(path, object, key, &options->tls_cert_file);
    } else if (key == "key_file") {
      status = ReadString(path, object, key, &options->tls_key_file);
    } else {
      status = KeyError(path, "tls." + key, "is not a known setting");
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DaemonOptions::Validate() const {
  auto address = ParseListenAddress(listen);
  if (!address.ok()) return address.status();
  // Protected mode (as Redis's): reachable from other machines only with TLS and API tokens,
  // unless the operator says otherwise.
  const std::string& host = address->host;
  const bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  if (!loopback && (tls_cert_file.empty() || api_tokens.empty()) && !allow_insecure_listen) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen: ", listen, " is reachable from other machines, and serving it without ",
        tls_cert_file.empty() ? "TLS" : "", tls_cert_file.empty() && api_tokens.empty() ? " and " : "",
        api_tokens.empty() ? "API tokens" : "",
        " would let anyone use this daemon; configure tls and auth.tokens, or pass --insecure-listen"));
  }
  if (!http_listen.empty()) {
    auto http_address = ParseListenAddress(http_listen);
    if (!http_address.ok()) return absl::InvalidArgumentError(absl::StrCat("http_listen: ", http_address.status().message()));
    const std::string& http_host = http_address->host;
    const bool http_loopback = http_host == "localhost" || http_host == "::1" || http_host.rfind("127.", 0) == 0;
    if (!http_loopback && (tls_cert_file.empty() || api_tokens.empty()) && !allow_insecure_listen) {
      return absl::InvalidArgumentError(absl::StrCat(
          "http_listen: ", http_listen, " is reachable from other machines; configure tls and auth.tokens, or pass --insecure-listen"));
    }
  }
  if (data_dir.empty()) return absl::InvalidArgumentError("data_dir is required (--data-dir DIR)");
  if (log_level != "debug" && log_level != "info" && log_level != "warn" && log_level != "error") {
    return absl::InvalidArgumentError(absl::StrCat(
        "log_level \"", log_level, "\" is not one of debug, info, warn, error"));
  }
  if (!(shutdown_grace_seconds >= 0 && shutdown_grace_seconds <= 3600)) {
    return absl::InvalidArgumentError("shutdown_grace_seconds must be between 0 and 3600");
  }
  if (limits.max_request_bytes < 1024 || limits.max_request_bytes > (1ull << 30)) {
    return absl::InvalidArgumentError("limits.max_request_bytes must be between 1 KiB and 1 GiB");
  }
  if (limits.max_field_bytes == 0) {
    return absl::InvalidArgumentError("limits.max_field_bytes must be positive");
  }
  if (limits.max_items == 0) return absl::InvalidArgumentError("limits.max_items must be positive");
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return absl::InvalidArgumentError("tls: cert_file and key_file must be given together");
  }
  if (runs.workers == 0 || runs.workers > 256) return absl::InvalidArgumentError("runs.workers must be between 1 and 256");
  if (engine.kv_cache_mb == 0) return absl::InvalidArgumentError("engine.kv_cache_mb must be positive");
  if (!engine::IsKnownQuantization(engine.quantize)) {
    return absl::InvalidArgumentError(absl::StrCat("engine.quantize \"", engine.quantize, "\" is not one of q8, q4, q4-pure or empty"));
  }
  if (!engine::IsKnownDevice(engine.device)) {
    return absl::InvalidArgumentError(absl::StrCat("engine.device \"", engine.device, "\" is not one of cpu, cuda, auto"));
  }
  if (engine.max_running == 0 || engine.max_running > 1024) {
    return absl::InvalidArgumentError("engine.max_running must be between 1 and 1024");
  }
  if (engine.max_running_per_tenant > engine.max_running) {
    return absl::InvalidArgumentError("engine.max_running_per_tenant must be at most engine.max_running");
  }
  if (engine.max_batch_tokens == 0 || engine.max_batch_tokens > 65536) {
    return absl::InvalidArgumentError("engine.max_batch_tokens must be between 1 and 65536");
  }
  if (engine.max_waiting > 1000000) return absl::InvalidArgumentError("engine.max_waiting must be at most 1000000");
  if (engine.max_streams == 0 || engine.max_streams > 4096) {
    return absl::InvalidArgumentError("engine.max_streams must be between 1 and 4096");
  }
  if (engine.max_streams_per_tenant > engine.max_streams) {
    return absl::InvalidArgumentError("engine.max_streams_per_tenant must be at most engine.max_streams");
  }
  if (!draft_model_dir.empty() && model_dir.empty()) {
    return absl::InvalidArgumentError("draft_model needs a model (--model) to draft for");
  }
  return absl::OkStatus();
}

absl::Status LoadConfigFile(const std::string& path, DaemonOptions* options) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("config ", path, ": cannot open for reading"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  Json root = Json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false,
                          /*ignore_comments=*/true);
  if (root.is_discarded()) return absl::InvalidArgumentError(absl::StrCat("config ", path, ": not valid JSON"));
  if (!root.is_object()) return absl::InvalidArgumentError(absl::StrCat("config ", path, ": must be a JSON object"));
  for (const auto& [key, value] : root.items()) {
    absl::Status status;
    if (key == "listen") {
      status = ReadString(path, root, key, &options->listen);
    } else if (key == "http_listen") {
      status = ReadString(path, root, key, &options->http_listen);
    } else if (key == "data_dir") {
      status = ReadString(path, root, key, &options->data_dir);
    } else if (key == "model") {
      status = ReadString(path, root, key, &options->model_dir);
    } else if (key == "draft_model") {
      status = ReadString(path, root, key, &options->draft_model_dir);
    } else if (key == "embedding_model") {
      status = ReadString(path, root, key, &options->embedding_model_dir);
    } else if (key == "engine") {
      status = ReadEngine(path, value, &options->engine);
    } else if (key == "memory") {
      status = ReadMemory(path, value, &options->memory);
    } else if (key == "tools_dir") {
      status = ReadString(path, root, key, &options->tools_dir);
    } else if (key == "search_url") {
      status = ReadString(path, root, key, &options->search_url);
    } else if (key == "http_allowed_hosts") {
      if (!value.is_array()) {
        status = KeyError(path, key, "must be a list of host names");
      } else {
        options->http_allowed_hosts.clear();
        for (const Json& host : value) {
          if (!host.is_string()) {
            status = KeyError(path, key, "must be a list of host names");
            break;
          }
          options->http_allowed_hosts.push_back(host.get<std::string>());
        }
      }
    } else if (key == "log_level") {
      status = ReadString(path, root, key, &options->log_level);
    } else if (key == "shutdown_grace_seconds") {
      if (!value.is_number()) {
        status = KeyError(path, key, "must be a number");
      } else {
        options->shutdown_grace_seconds = value.get<double>();
      }
    } else if (key == "limits") {
      status = ReadLimits(path, value, &options->limits);
    } else if (key == "plans_dir") {
      status = ReadString(path, root, key, &options->plans_dir);
    } else if (key == "runs") {
      status = ReadRuns(path, value, &options->runs);
    } else if (key == "auth") {
      status = ReadAuth(path, value, &options->api_tokens);
    } else if (key == "tls") {
      status = ReadTls(path, value, options);
    } else {
      status = KeyError(path, key, "is not a known setting");
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ResolveShippedModels(DaemonOptions* options) {
  bool shipped_default = false;
  if (options->model_dir.empty() || options->model_dir == "default") {
    absl::StatusOr<std::string> dir = engine::FindShippedModel(engine::kDefaultModel);
    if (!dir.ok()) return absl::NotFoundError(absl::StrCat("--model: ", dir.status().message(), " (--model none runs without one)"));
    options->model_dir = *dir;
    shipped_default = true;
  } else if (options->model_dir == "none") {
    options->model_dir.clear();
  }
  if (options->embedding_model_dir == "none") {
    options->embedding_model_dir.clear();
  } else if (options->embedding_model_dir == "default" || (options->embedding_model_dir.empty() && shipped_default)) {
    absl::StatusOr<std::string> dir = engine::FindShippedModel(engine::kDefaultEmbeddingModel);
    if (!dir.ok()) {
      return absl::NotFoundError(absl::StrCat("--embedding-model: ", dir.status().message(),
                                              " (--embedding-model none embeds with the model)"));
    }
    options->embedding_model_dir = *dir;
  }
  return absl::OkStatus();
}

}  // namespace agentd
