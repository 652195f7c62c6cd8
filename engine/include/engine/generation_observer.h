// What an operator's metrics learn of every generation the engine runs, whoever asked for it
// (gRPC, HTTP, a plan step, a tool): when its first token came, the gaps between later ones, and
// the finished result (tokens, speculation). Set on EngineOptions::observer; the engine calls it
// from the requesting thread, so an implementation must be thread-safe and quick.
#ifndef AGENTD_ENGINE_GENERATION_OBSERVER_H_
#define AGENTD_ENGINE_GENERATION_OBSERVER_H_

#include <string_view>

#include "engine/generation.h"

namespace engine {

class GenerationObserver {
 public:
  virtual ~GenerationObserver() = default;
  // `origin` is CompletionOptions::origin ("grpc", "http", "plan", "tool"; "" when unset).
  // The first generated token came `seconds` after the request reached the engine.
  virtual void OnFirstToken(std::string_view origin, double seconds) = 0;
  // `tokens` more tokens came, `seconds_per_token` apart on average since the previous ones.
  virtual void OnTokens(std::string_view origin, int tokens, double seconds_per_token) = 0;
  // The generation ended without an error.
  virtual void OnFinished(std::string_view origin, const GenerationResult& result) = 0;
};

}  // namespace engine

#endif  // AGENTD_ENGINE_GENERATION_OBSERVER_H_
