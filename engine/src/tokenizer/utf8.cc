// UTF-8 validity helpers shared by decoding and streaming.
#include "engine/tokenizer.h"

namespace engine {
namespace {

struct Scan {
  // Bytes examined: a whole character when `valid`, else the maximal invalid prefix (≥ 1).
  size_t length;
  bool valid;
  // The sequence was valid so far but the string ended before it was complete.
  bool truncated;
};

// The maximal-subpart rule of Unicode §3.9 (what Rust's from_utf8_lossy and Python follow).
Scan ScanCharacter(const std::string& s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {1, true, false};
  size_t expected;
  unsigned char lo = 0x80, hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    expected = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    expected = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    expected = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return {1, false, false};
  }
  size_t k = 1;
  for (; k < expected; ++k) {
    if (i + k >= s.size()) return {k, false, true};
    const auto b = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xbf);
    if (!ok) return {k, false, false};
  }
  return {expected, true, false};
}

}  // namespace

size_t CompleteUtf8Prefix(const std::string& bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    Scan scan = ScanCharacter(bytes, i);
    if (scan.truncated) return i;
    i += scan.length;
  }
  return i;
}

std::string ToValidUtf8(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    Scan scan = ScanCharacter(bytes, i);
    if (scan.valid) {
      out.append(bytes, i, scan.length);
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += scan.length;
  }
  return out;
}

std::string IncrementalDecoder::Push(int32_t id) {
  if (skip_special_ && tokenizer_->IsSpecial(id)) return "";
  pending_ += tokenizer_->TokenBytes(id);
  const size_t complete = CompleteUtf8Prefix(pending_);
  std::string out = ToValidUtf8(pending_.substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string IncrementalDecoder::Flush() {
  std::string out = ToValidUtf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace engine
