// How memory turns text into vectors: a narrow interface the daemon implements over the
// engine, so memory depends on nothing but this.
#ifndef AGENTD_MEMORY_EMBEDDER_H_
#define AGENTD_MEMORY_EMBEDDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace memory {

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Recorded with each collection; a collection refuses an embedder of another model.
  virtual std::string model_name() const = 0;
  virtual int dimension() const = 0;
  // One L2-normalised vector of dimension() per text (chunks being stored), in order.
  virtual absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) = 0;
  // The vector of a search query. Retrieval models embed queries differently from documents
  // (an instruction before the query); the default treats a query as a document.
  virtual absl::StatusOr<std::vector<float>> EmbedQuery(const std::string& query) {
    auto vectors = Embed({query});
    if (!vectors.ok()) return vectors.status();
    return std::move((*vectors)[0]);
  }
};

}  // namespace memory

#endif  // AGENTD_MEMORY_EMBEDDER_H_
