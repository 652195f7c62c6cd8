// Writing safetensors files in tests, to build checkpoints the loader must accept or refuse.
#ifndef AGENTD_TESTS_SUPPORT_SAFETENSORS_WRITER_H_
#define AGENTD_TESTS_SUPPORT_SAFETENSORS_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace testing_support {

struct RawTensor {
  std::string name;
  std::string dtype;  // "F32", "BF16", "F8_E4M3", ...
  std::vector<int64_t> shape;
  std::string bytes;
};

void WriteSafetensors(const std::string& path, const std::vector<RawTensor>& tensors);

}  // namespace testing_support

#endif  // AGENTD_TESTS_SUPPORT_SAFETENSORS_WRITER_H_
