// libFuzzer target: a safetensors file (the 8-byte header length, the JSON header, the data) is
// opened as a model file would be. Whatever the bytes, Open returns a status; a file it accepts
// has every tensor's bytes inside the file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/dev/shm/agentd-fuzz-safetensors-" + std::to_string(getpid());
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  auto opened = engine::SafetensorsFile::Open(path);
  if (opened.ok()) {
    for (const auto& [name, tensor] : (*opened)->tensors()) {
      if (tensor.NumElements() < 0) __builtin_trap();
    }
  }
  return 0;
}
