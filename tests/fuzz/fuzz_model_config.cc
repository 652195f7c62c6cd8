// libFuzzer target: config.json text as a model directory would hold it. Whatever the bytes,
// parsing returns a status; an accepted configuration has sizes a model could be built from.
#include <cstdint>
#include <string>

#include "engine/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = engine::ParseModelConfig(text, "config.json");
  (void)config;
  return 0;
}
