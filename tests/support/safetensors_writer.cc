#include "support/safetensors_writer.h"

#include <fstream>

#include "nlohmann/json.hpp"

namespace testing_support {

void WriteSafetensors(const std::string& path, const std::vector<RawTensor>& tensors) {
  nlohmann::ordered_json header;
  uint64_t offset = 0;
  for (const RawTensor& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const uint64_t size = text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((size >> (8 * i)) & 0xff));
  out << text;
  for (const RawTensor& t : tensors) out << t.bytes;
}

}  // namespace testing_support
