// The daemon's settings: what `agentd` reads from its flags and its JSON config file.
//
// Precedence: built-in defaults < --config FILE < command-line flags. LoadConfigFile() fills an
// options struct from a file; main() then applies flags on top and calls Validate().
#ifndef AGENTD_DAEMON_OPTIONS_H_
#define AGENTD_DAEMON_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace agentd {

// Limits applied to every request before a handler sees it. Exceeding one is INVALID_ARGUMENT
// naming the field.
struct RequestLimits {
  // Largest serialized request accepted, in bytes. Default 32 MiB. gRPC's transport refuses
  // messages beyond twice this with RESOURCE_EXHAUSTED before they are even parsed.
  uint64_t max_request_bytes = 32ull << 20;
  // Default cap on any string/bytes field without its own (max_bytes) annotation. Default 1 MiB.
  uint64_t max_field_bytes = 1ull << 20;
  // Default cap on the elements of any repeated field without its own (max_items). Default 4096.
  uint32_t max_items = 4096;
};

// How runs execute (AgentService).
struct RunOptions {
  // Runs executing at once; more wait PENDING. Default 4.
  uint32_t workers = 4;
  // Budgets for runs whose request leaves them 0: wall-clock seconds (default 1800), model
  // tokens (default 200000) and tool calls (default 200).
  uint32_t deadline_seconds = 1800;
  uint64_t max_tokens = 200000;
  uint32_t max_tool_calls = 200;
  // PENDING + RUNNING runs per tenant. Default 16.
  uint32_t max_active_runs_per_tenant = 16;
  // Runs one tenant may keep stored, ended ones included (AgentService.DeleteRun removes ended
  // runs); a StartRun past it is RESOURCE_EXHAUSTED naming this setting. 0 (the default): 10000
  // when auth.tokens name two tenants or more, no limit otherwise.
  uint64_t max_stored_runs_per_tenant = 0;
  // Bytes one tenant's stored runs may take (their records and events as serialised); a
  // checkpoint past it fails its run, and StartRun past it is refused, naming this setting.
  // 0 (the default): 8 GiB when auth.tokens name two tenants or more, no limit otherwise.
  uint64_t max_stored_bytes_per_tenant = 0;
};

// One tenant's share of the memory store (config key "memory"), so that no tenant can fill the
// disk every tenant's documents and runs are on.
struct MemoryLimits {
  // Bytes a tenant's documents may take in the store, counted as the records they were written
  // as (chunk text, vectors, lexical postings) and their vectors' copies in the index files,
  // before compression. 0 (the default): when auth.tokens name two tenants or more, 8 GiB or
  // half the machine's memory divided among the tenants, whichever is less (at least 64 MiB),
  // since postings and vectors are held in memory; no limit otherwise.
  uint64_t max_stored_bytes_per_tenant = 0;
  // Collections a tenant may have. 0 (the default): 1000 when auth.tokens name two tenants or
  // more, no limit otherwise.
  uint64_t max_collections_per_tenant = 0;
};

// The engine's serving settings (config key "engine").
struct EngineServingOptions {
  // The model's weights as stored ("", the default) or quantised at load: "q8" (1.125 bytes per
  // weight instead of 2 for bf16; logits within a few percent) or "q4" (0.5625 bytes per weight;
  // see BENCHMARKS.md for what it costs in agreement with the unquantised model).
  std::string quantize;
  // Where the model runs: "cpu" (the default), "cuda" (the GPU; refused at start when there is
  // none, with the reason) or "auto" (the GPU when one is found, else the CPU).
  std::string device = "cpu";
  // KV-cache memory for all requests together, in MiB. Default 2048.
  uint64_t kv_cache_mb = 2048;
  // Requests in the running batch at once. Default 16.
  uint64_t max_running = 16;
  // Of those, the most one tenant's may hold; the rest stay free for the other tenants, so one
  // tenant's long generations cannot keep every other tenant waiting for the first of them to
  // end. 0 (the default): three quarters of max_running (at least 1) when auth.tokens name two
  // tenants or more, all of it otherwise. At most max_running.
  uint64_t max_running_per_tenant = 0;
  // Tokens per forward pass (longer prompts are prefilled in chunks). Default 256.
  uint64_t max_batch_tokens = 256;
  // Requests waiting for a batch slot; more are refused with RESOURCE_EXHAUSTED. Default 256.
  uint64_t max_waiting = 256;
  // Reuse KV blocks of earlier prompts' prefixes. Default true.
  bool prefix_caching = true;
  // ModelService.Generate/Chat calls streaming at once (each holds a thread while it waits for
  // its tokens); one more is refused with RESOURCE_EXHAUSTED, so no number of clients can make
  // the daemon start unbounded threads. Default 256; 1..4096.
  uint64_t max_streams = 256;
  // Of max_streams, the most one tenant may stream at once (gRPC and HTTP together); one more
  // of its calls is RESOURCE_EXHAUSTED naming this setting. Without it one tenant holding every
  // stream (256 long generations) had every other tenant's generation calls refused. 0 (the default): a quarter of max_streams (at least 1)
  // when auth.tokens name two tenants or more, all of it otherwise (one tenant shares with
  // nobody). At most max_streams.
  uint64_t max_streams_per_tenant = 0;
};

struct ApiToken {
  std::string token;
  std::string tenant;
  // May call administrative RPCs (ToolService.Reload). Default false.
  bool admin = false;
};

struct DaemonOptions {
  // host:port to serve gRPC on. IPv4 literal, [IPv6] literal or "localhost"; port 0 picks a free
  // port (see port_file). Default 127.0.0.1:7700.
  std::string listen = "127.0.0.1:7700";
  // Directory for all persistent state; created if missing, must be writable, and may be used
  // by one daemon at a time (a lock file guards it). Required.
  std::string data_dir;
  // Model directory (config.json, *.safetensors, tokenizer.json). Empty or "default": the shipped
  // default model (engine/shipped_models.h); "none": no model. ResolveShippedModels() turns the
  // first two into the directory and "none" into empty; after it, empty means no model.
  std::string model_dir;
  // A smaller model with the same vocabulary for draft-model speculation. Empty: none.
  std::string draft_model_dir;
  // A sentence-transformers embedding model (its own tokenizer and pooling) that memory
  // collections and ModelService.Embed use instead of the model's pooled hidden states. Empty:
  // the shipped agentd-embed when the model is the shipped default, else the model's states;
  // "none": the model's states (after ResolveShippedModels, empty means the model's states).
  std::string embedding_model_dir;
  EngineServingOptions engine;
  MemoryLimits memory;
  // Directory of Lua tool files (*.lua) loaded at start and on ToolService.Reload. Empty: the
  // built-in tools only.
  std::string tools_dir;
  // Hosts web_fetch, web_search and Lua tools' http module may reach (exact names, IP literals or
  // "*.example.com"). Empty (the default): no outbound HTTP.
  std::vector<std::string> http_allowed_hosts;
  // web_search endpoint answering SearxNG-style JSON, with {query} in it; empty: no web_search.
  std::string search_url;
  // Directory of installed plans: NAME.lua for all tenants, TENANT/NAME.lua for one. Empty: the
  // built-in plans and inline plan sources only.
  std::string plans_dir;
  // API tokens and the tenant each acts for. Empty (the default): no authentication, every
  // caller is tenant "default". Non-empty: calls without a valid "authorization: Bearer TOKEN"
  // are refused.
  std::vector<ApiToken> api_tokens;
  // TLS: PEM certificate chain and private key files. Both empty (the default): plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Serve a non-loopback listen address without TLS and API tokens. Default false: such a
  // configuration refuses to start (protected mode).
  bool allow_insecure_listen = false;
  RunOptions runs;
  // When set, the bound port is written here (atomically) once the server is serving.
  std::string port_file;
  // host:port for the HTTP side (OpenAI-compatible API, /metrics), with the same tokens, TLS
  // and protected mode as `listen`. Empty (the default): no HTTP listener.
  std::string http_listen;
  // When set, the HTTP listener's bound port is written here once it serves.
  std::string http_port_file;
  // "debug", "info", "warn" or "error". Default info.
  std::string log_level = "info";
  // How long SIGTERM/SIGINT waits for in-flight calls and streams before cancelling them.
  // Default 10 s.
  double shutdown_grace_seconds = 10.0;
  RequestLimits limits;

  // Checks values that do not depend on the file system. The message names the setting.
  absl::Status Validate() const;
};

// Replaces "", "default" and "none" in model_dir and embedding_model_dir with what they stand
// for (see above). NOT_FOUND, with a message naming --model or --embedding-model, when a shipped
// model that is needed is missing.
absl::Status ResolveShippedModels(DaemonOptions* options);

// Reads a JSON config file into *options, overriding only the keys the file sets. Unknown keys,
// wrong types and unreadable files are errors naming the file and the key.
//
//   {"listen": "127.0.0.1:7700", "data_dir": "/var/lib/agentd", "model": "/models/x", "tools_dir": "tools",
//    "plans_dir": "plans", "auth": {"tokens": [{"token": "s3cret", "tenant": "acme"}]},
//    "tls": {"cert_file": "server.pem", "key_file": "server.key"},
//    "runs": {"workers": 4, "deadline_seconds": 1800, "max_tokens": 200000, "max_tool_calls": 200,
//             "max_active_runs_per_tenant": 16, "max_stored_runs_per_tenant": 10000},
//    "memory": {"max_stored_bytes_per_tenant": 8589934592, "max_collections_per_tenant": 1000},
//    "log_level": "info", "shutdown_grace_seconds": 10,
//    "limits": {"max_request_bytes": 33554432, "max_field_bytes": 1048576, "max_items": 4096}}
absl::Status LoadConfigFile(const std::string& path, DaemonOptions* options);

}  // namespace agentd

#endif  // AGENTD_DAEMON_OPTIONS_H_
