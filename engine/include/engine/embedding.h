// How a model turns text into one vector: the pooling of its final hidden states and the prompts
// put before queries and documents, as a sentence-transformers model directory declares them.
//
// A retrieval model is trained for one pooling (the mean over tokens, the last token, the
// first) and often with an instruction before queries ("query: ", Qwen3-Embedding's
// "Instruct: ...\nQuery:"); embedding it any other way loses most of its quality. The settings
// come from the model directory:
//   1_Pooling/config.json              pooling_mode_mean_tokens | pooling_mode_lasttoken |
//                                      pooling_mode_cls_token, include_prompt
//   config_sentence_transformers.json  prompts.query, prompts.document (or passage)
// A directory without them (a plain language model) gets mean pooling and no prompts.
//
//   auto settings = engine::ReadEmbeddingSettings("/models/agentd-embed");
//   std::string text = settings->PromptFor(engine::EmbedRole::kQuery) + question;
//   std::vector<float> v = engine::Pool(settings->pooling, hidden, tokens, hidden_size, prompt_tokens);
#ifndef AGENTD_ENGINE_EMBEDDING_H_
#define AGENTD_ENGINE_EMBEDDING_H_

#include <cstdint>
#include <span>
#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace engine {

// What a text is for: retrieval models embed queries with an instruction and documents without.
enum class EmbedRole { kDocument, kQuery };

struct EmbedOptions {
  // Default kDocument.
  EmbedRole role = EmbedRole::kDocument;
  // L2-normalise each vector (cosine similarity = inner product). Default true.
  bool normalize = true;
  // Fairness key in the scheduler's queue (as CompletionOptions::tenant). Default "".
  std::string tenant;
  // When set and it becomes true (a server shutting down), texts not yet embedded are not, and
  // Embed returns CANCELLED soon after. Default none.
  const std::atomic<bool>* cancelled = nullptr;
};

enum class Pooling { kMean, kLastToken, kFirstToken };

struct EmbeddingSettings {
  // Default kMean (also for directories without sentence-transformers files).
  Pooling pooling = Pooling::kMean;
  // Whether mean pooling counts the prompt's tokens (sentence-transformers' include_prompt).
  // Default true.
  bool include_prompt = true;
  // Put before the text of each role; "" = nothing.
  std::string query_prompt;
  std::string document_prompt;
  // True when the directory declares itself an embedding model (has 1_Pooling/config.json).
  bool declared = false;

  const std::string& PromptFor(EmbedRole role) const { return role == EmbedRole::kQuery ? query_prompt : document_prompt; }
};

// Reads the settings of a model directory; a malformed file is an error naming it.
absl::StatusOr<EmbeddingSettings> ReadEmbeddingSettings(const std::string& model_dir);

const char* PoolingName(Pooling pooling);

// Pools hidden states [tokens, hidden_size] (row-major) into one vector. `prompt_tokens` leading
// rows belong to the prompt (BOS included) and are left out of a mean when !include_prompt,
// unless nothing else remains.
std::vector<float> Pool(Pooling pooling, bool include_prompt, std::span<const float> hidden, int64_t tokens,
                        int64_t hidden_size, int64_t prompt_tokens);

// Scales v to unit length (left as is when it is all zeros).
void NormalizeL2(std::vector<float>& v);

}  // namespace engine

#endif  // AGENTD_ENGINE_EMBEDDING_H_
