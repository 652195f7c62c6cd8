// libFuzzer target: a GGUF file is opened as `--model x.gguf` opens it — the file, then its
// metadata as a config and a tokenizer, then the model itself: its blocks converted into the
// kernels' layouts (16-row panels where a matrix has them) and two tokens run through it.
// Whatever the bytes, each step returns a status; a file Open accepts has every tensor's bytes
// inside the file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/gguf.h"
#include "engine/model.h"
#include "engine/model_config.h"
#include "engine/tokenizer.h"
#include "gguf_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/dev/shm/agentd-fuzz-gguf-" + std::to_string(getpid()) + ".gguf";
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  auto opened = engine::GgufFile::Open(path);
  if (!opened.ok()) return 0;
  const uint8_t* begin = nullptr;
  for (const auto& [name, tensor] : (*opened)->tensors()) {
    if (tensor.size_bytes > size) __builtin_trap();
    if (begin == nullptr || tensor.data < begin) begin = tensor.data;
  }
  auto checkpoint = engine::ReadGgufCheckpoint(**opened);
  if (checkpoint.ok()) (void)engine::ParseModelConfig(checkpoint->config_json, path);
  auto tokenizer = engine::ReadGgufTokenizer(**opened);
  if (tokenizer.ok()) (void)engine::Tokenizer::FromJson(tokenizer->tokenizer_json, tokenizer->tokenizer_config_json, path);
  if (!checkpoint.ok()) return 0;
  auto model = engine::Model::Load({.model_dir = path});
  if (!model.ok() || (*model)->config().vocab_size < 2) return 0;
  auto cache = (*model)->NewCache();
  engine::ForwardResult result;
  const int32_t tokens[] = {0, 1};
  (void)(*model)->Forward(tokens, cache.get(), {}, &result);
  return 0;
}
