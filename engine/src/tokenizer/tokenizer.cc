// Loading tokenizer.json and running the HF pipeline:
//   added-token split → normalizer → pre-tokenizer (regex Splits, ByteLevel) → BPE.
#include "engine/tokenizer.h"
#include "engine/gguf.h"
#include "gguf_checkpoint.h"

#include <utf8proc.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/regex_splitter.h"
#include "engine/json_nesting.h"

namespace engine {
namespace {

using Json = nlohmann::json;
using tokenizer::BpeModel;
using tokenizer::RegexSplitter;

// Fields read as nlohmann's value() reads them, without its exceptions: the fallback when the
// field is absent (or the object is no object), an error naming the field when it holds another
// type. value() throws there, and a hostile tokenizer.json ("lstrip": 1, "type": 7,
// "normalizer": 5) ended the process (found by fuzz_tokenizer_json).
const Json* Field(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}
absl::StatusOr<std::string> StringField(const Json& object, const char* key, std::string fallback) {
  const Json* field = Field(object, key);
  if (field == nullptr) return fallback;
  if (!field->is_string()) return absl::InvalidArgumentError(absl::StrCat(key, ": must be a string"));
  return field->get<std::string>();
}
absl::StatusOr<bool> BoolField(const Json& object, const char* key, bool fallback) {
  const Json* field = Field(object, key);
  if (field == nullptr) return fallback;
  if (!field->is_boolean()) return absl::InvalidArgumentError(absl::StrCat(key, ": must be true or false"));
  return field->get<bool>();
}
// A field of any type, or null when absent.
Json JsonField(const Json& object, const char* key) {
  const Json* field = Field(object, key);
  return field == nullptr ? Json() : *field;
}

// GPT-2's pre-tokenization pattern, used by a ByteLevel pre-tokenizer with use_regex.
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct AddedToken {
  int32_t id;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

enum class Normalization { kNone, kNfc, kNfd, kNfkc, kNfkd };

struct SplitStep {
  std::unique_ptr<RegexSplitter> regex;  // or
  std::string literal;
  bool remove_matches = false;  // behavior "Removed" (else "Isolated")
};

// A run of input that is either an added token or text still to be tokenized.
struct Segment {
  std::string text;
  int32_t added_id = -1;
  size_t offset = 0;  // where `text` starts in what was split
};

// Whether [begin, end) overlaps one of `ranges` (sorted, not overlapping).
bool Overlaps(std::span<const TextRange> ranges, size_t begin, size_t end) {
  // The first range ending after `begin` is the only one that can.
  auto it = std::upper_bound(ranges.begin(), ranges.end(), begin,
                             [](size_t at, const TextRange& range) { return at < range.end; });
  return it != ranges.end() && it->begin < end;
}

bool IsWhitespace(uint32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000;
}

bool IsWordByte(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }

class HfTokenizer final : public Tokenizer {
 public:
  absl::Status Init(const Json& root, const Json& config, const std::string& source);

  std::vector<int32_t> EncodeWithLiteralRanges(const std::string& text,
                                               std::span<const TextRange> literal) const override;
  std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens) const override;
  const std::string& TokenBytes(int32_t id) const override {
    static const std::string empty;
    return id >= 0 && id < vocab_size() ? id_to_bytes_[id] : empty;
  }
  std::string TokenString(int32_t id) const override {
    return id >= 0 && id < vocab_size() ? id_to_token_[id] : std::string();
  }
  std::optional<int32_t> TokenId(const std::string& token) const override {
    auto it = token_to_id_.find(token);
    if (it == token_to_id_.end()) return std::nullopt;
    return it->second;
  }
  bool IsSpecial(int32_t id) const override {
    return id >= 0 && id < vocab_size() && is_special_[id];
  }
  bool IsAdded(int32_t id) const override { return id >= 0 && id < vocab_size() && is_added_[id]; }
  int32_t vocab_size() const override { return static_cast<int32_t>(id_to_token_.size()); }
  std::optional<int32_t> bos_id() const override { return bos_id_; }
  std::optional<int32_t> eos_id() const override { return eos_id_; }
  bool add_bos() const override { return add_bos_ && bos_id_.has_value(); }

 private:
  absl::Status Error(absl::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", why));
  }
  absl::Status LoadModel(const Json& model);
  absl::Status LoadNormalizer(const Json& normalizer);
  absl::Status LoadPreTokenizer(const Json& pre_tokenizer);
  absl::Status LoadConfig(const Json& config);
  void SetToken(int32_t id, const std::string& spelling);

  // Added tokens in `text` except inside `literal` (ranges of `text`).
  void SplitAdded(const std::string& text, bool normalized_tokens, std::span<const TextRange> literal,
                  std::vector<Segment>* out) const;
  std::string Normalize(const std::string& text) const;
  void EncodeText(const std::string& text, std::vector<int32_t>* out) const;
  void EncodePiece(const std::string& piece, std::vector<int32_t>* out) const;

  std::string source_;
  std::vector<std::string> id_to_token_;
  std::vector<std::string> id_to_bytes_;
  std::vector<bool> is_special_;
  std::vector<bool> is_added_;
  absl::flat_hash_map<std::string, int32_t> token_to_id_;
  std::unique_ptr<BpeModel> bpe_;
  bool ignore_merges_ = false;

  std::vector<AddedToken> added_;
  // Some added token is matched in normalized text (a second pass over every piece).
  bool has_normalized_added_ = false;
  // First byte → indices into added_, longest content first.
  std::array<std::vector<int>, 256> added_by_first_byte_;

  Normalization normalization_ = Normalization::kNone;
  std::vector<SplitStep> splits_;
  bool byte_level_prefix_space_ = false;

  std::optional<int32_t> bos_id_, eos_id_;
  bool add_bos_ = false;

  // Pieces repeat a lot in real text ("the", " of", numbers); caching their ids makes encoding
  // several times faster. Bounded; cleared when full.
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

void HfTokenizer::SetToken(int32_t id, const std::string& spelling) {
  if (id >= static_cast<int32_t>(id_to_token_.size())) {
    id_to_token_.resize(id + 1);
    id_to_bytes_.resize(id + 1);
    is_special_.resize(id + 1, false);
    is_added_.resize(id + 1, false);
  }
  id_to_token_[id] = spelling;
  // Decoding maps each character back to its byte; a spelling outside the byte alphabet (an
  // added token such as "<｜User｜>") stands for its own UTF-8, as in HF's ByteLevel decoder.
  std::optional<std::string> bytes = tokenizer::SpellingToBytes(spelling);
  id_to_bytes_[id] = bytes ? *bytes : spelling;
  token_to_id_[spelling] = id;
}

absl::Status HfTokenizer::LoadModel(const Json& model) {
  if (!model.is_object()) return Error("model: missing");
  absl::StatusOr<std::string> model_type = StringField(model, "type", "");
  if (!model_type.ok()) return Error(absl::StrCat("model.", model_type.status().message()));
  const std::string& type = *model_type;
  if (type != "BPE") return Error(absl::StrCat("model.type \"", type, "\" is not supported (BPE)"));
  if (model.contains("byte_fallback") && model["byte_fallback"].is_boolean() && model["byte_fallback"].get<bool>()) {
    return Error("model.byte_fallback is not supported");
  }
  if (model.contains("ignore_merges") && model["ignore_merges"].is_boolean()) {
    ignore_merges_ = model["ignore_merges"].get<bool>();
  }
  const Json* vocab_field = Field(model, "vocab");
  if (vocab_field == nullptr) return Error("model.vocab: missing or empty");
  const Json& vocab = *vocab_field;
  if (!vocab.is_object() || vocab.empty()) return Error("model.vocab: missing or empty");
  for (const auto& [spelling, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1 << 24)) {
      return Error(absl::StrCat("model.vocab: bad id for \"", spelling, "\""));
    }
    SetToken(id.get<int32_t>(), spelling);
  }
  std::array<int32_t, 256> byte_ids;
  for (int b = 0; b < 256; ++b) {
    auto it = token_to_id_.find(tokenizer::ByteToUtf8(static_cast<uint8_t>(b)));
    byte_ids[b] = it == token_to_id_.end() ? -1 : it->second;
  }
  bpe_ = std::make_unique<BpeModel>(byte_ids);
  const Json* merges_field = Field(model, "merges");
  const Json no_merges = Json::array();
  const Json& merges = merges_field != nullptr ? *merges_field : no_merges;
  if (!merges.is_array()) return Error("model.merges: must be a list");
  int32_t rank = 0;
  for (const Json& merge : merges) {
    std::string left, right;
    if (merge.is_string()) {
      const std::string text = merge.get<std::string>();
      size_t space = text.find(' ', 1);
      if (space == std::string::npos) return Error(absl::StrCat("model.merges[", rank, "]: \"", text, "\" is not \"a b\""));
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      return Error(absl::StrCat("model.merges[", rank, "]: malformed"));
    }
    auto l = token_to_id_.find(left), r = token_to_id_.find(right), m = token_to_id_.find(left + right);
    if (l == token_to_id_.end() || r == token_to_id_.end() || m == token_to_id_.end()) {
      return Error(absl::StrCat("model.merges[", rank, "]: \"", left, " ", right, "\" uses a token not in the vocabulary"));
    }
    bpe_->AddMerge(l->second, r->second, m->second, rank);
    ++rank;
  }
  return absl::OkStatus();
}

absl::Status HfTokenizer::LoadNormalizer(const Json& normalizer) {
  if (normalizer.is_null()) return absl::OkStatus();
  if (!normalizer.is_object()) return Error("normalizer: must be an object");
  absl::StatusOr<std::string> normalizer_type = StringField(normalizer, "type", "");
  if (!normalizer_type.ok()) return Error(absl::StrCat("normalizer.", normalizer_type.status().message()));
  const std::string& type = *normalizer_type;
  if (type == "Sequence") {
    const Json items = JsonField(normalizer, "normalizers");
    if (!items.is_array()) return Error("normalizer.normalizers: must be a list");
    for (const Json& item : items) {
      absl::Status status = LoadNormalizer(item);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }
  if (normalization_ != Normalization::kNone) return Error("normalizer: more than one Unicode normalization");
  if (type == "NFC") normalization_ = Normalization::kNfc;
  else if (type == "NFD") normalization_ = Normalization::kNfd;
  else if (type == "NFKC") normalization_ = Normalization::kNfkc;
  else if (type == "NFKD") normalization_ = Normalization::kNfkd;
  else return Error(absl::StrCat("normalizer \"", type, "\" is not supported (NFC, NFD, NFKC, NFKD, Sequence)"));
  return absl::OkStatus();
}

absl::Status HfTokenizer::LoadPreTokenizer(const Json& pre) {
  if (pre.is_null()) return Error("pre_tokenizer: a byte-level pre-tokenizer is required");
  if (!pre.is_object()) return Error("pre_tokenizer: must be an object");
  absl::StatusOr<std::string> pre_type = StringField(pre, "type", "");
  if (!pre_type.ok()) return Error(absl::StrCat("pre_tokenizer.", pre_type.status().message()));
  const std::string& type = *pre_type;
  if (type == "Sequence") {
    const Json items = JsonField(pre, "pretokenizers");
    if (!items.is_array()) return Error("pre_tokenizer.pretokenizers: must be a list");
    for (const Json& item : items) {
      absl::Status status = LoadPreTokenizer(item);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }
  if (type == "ByteLevel") {
    absl::StatusOr<bool> use_regex = BoolField(pre, "use_regex", true);
    absl::StatusOr<bool> prefix_space = BoolField(pre, "add_prefix_space", false);
    if (!use_regex.ok()) return Error(absl::StrCat("pre_tokenizer.", use_regex.status().message()));
    if (!prefix_space.ok()) return Error(absl::StrCat("pre_tokenizer.", prefix_space.status().message()));
    if (*use_regex) {
      SplitStep step;
      auto regex = RegexSplitter::Create(kGpt2Pattern);
      if (!regex.ok()) return regex.status();
      step.regex = std::move(*regex);
      splits_.push_back(std::move(step));
    }
    byte_level_prefix_space_ = *prefix_space;
    return absl::OkStatus();
  }
  if (type == "Split") {
    absl::StatusOr<bool> invert = BoolField(pre, "invert", false);
    absl::StatusOr<std::string> behavior_field = StringField(pre, "behavior", "Isolated");
    if (!invert.ok()) return Error(absl::StrCat("pre_tokenizer.", invert.status().message()));
    if (!behavior_field.ok()) return Error(absl::StrCat("pre_tokenizer.", behavior_field.status().message()));
    if (*invert) return Error("pre_tokenizer Split with invert is not supported");
    const std::string& behavior = *behavior_field;
    SplitStep step;
    if (behavior == "Removed") {
      step.remove_matches = true;
    } else if (behavior != "Isolated") {
      return Error(absl::StrCat("pre_tokenizer Split behavior \"", behavior, "\" is not supported (Isolated, Removed)"));
    }
    const Json pattern = JsonField(pre, "pattern");
    if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
      auto regex = RegexSplitter::Create(pattern["Regex"].get<std::string>());
      if (!regex.ok()) return Error(regex.status().message());
      step.regex = std::move(*regex);
    } else if (pattern.contains("String") && pattern["String"].is_string()) {
      step.literal = pattern["String"].get<std::string>();
      if (step.literal.empty()) return Error("pre_tokenizer Split: empty String pattern");
    } else {
      return Error("pre_tokenizer Split: pattern must be {\"Regex\": ...} or {\"String\": ...}");
    }
    splits_.push_back(std::move(step));
    return absl::OkStatus();
  }
  return Error(absl::StrCat("pre_tokenizer \"", type, "\" is not supported (Sequence, Split, ByteLevel)"));
}

absl::Status HfTokenizer::LoadConfig(const Json& config) {
  if (!config.is_object()) return absl::OkStatus();
  auto token_of = [&](const char* key) -> std::optional<int32_t> {
    if (!config.contains(key)) return std::nullopt;
    const Json& v = config[key];
    std::string content;
    if (v.is_string()) content = v.get<std::string>();
    else if (v.is_object() && v.contains("content") && v["content"].is_string()) content = v["content"].get<std::string>();
    else return std::nullopt;
    return TokenId(content);
  };
  bos_id_ = token_of("bos_token");
  eos_id_ = token_of("eos_token");
  if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) {
    add_bos_ = config["add_bos_token"].get<bool>();
  }
  return absl::OkStatus();
}

absl::Status HfTokenizer::Init(const Json& root, const Json& config, const std::string& source) {
  source_ = source;
  if (!root.is_object()) return Error("not a JSON object");
  const Json* model = Field(root, "model");  // not copied: the vocabulary and merges are most of the file
  absl::Status status = LoadModel(model != nullptr ? *model : Json());
  if (!status.ok()) return status;
  const Json added_tokens = JsonField(root, "added_tokens");
  if (!added_tokens.is_null() && !added_tokens.is_array()) return Error("added_tokens: must be a list");
  for (const Json& token : added_tokens) {
    if (!token.contains("id") || !token["id"].is_number_integer() || !token.contains("content") ||
        !token["content"].is_string() || token["content"].get<std::string>().empty()) {
      return Error("added_tokens: entry without id or content");
    }
    AddedToken added;
    added.id = token["id"].get<int32_t>();
    if (added.id < 0 || added.id > (1 << 24)) return Error("added_tokens: bad id");
    added.content = token["content"].get<std::string>();
    for (auto [key, flag] : {std::pair<const char*, bool*>{"special", &added.special}, {"single_word", &added.single_word},
                             {"lstrip", &added.lstrip}, {"rstrip", &added.rstrip}}) {
      absl::StatusOr<bool> value = BoolField(token, key, false);
      if (!value.ok()) return Error(absl::StrCat("added_tokens[", added.id, "].", value.status().message()));
      *flag = *value;
    }
    absl::StatusOr<bool> normalized = BoolField(token, "normalized", !added.special);
    if (!normalized.ok()) return Error(absl::StrCat("added_tokens[", added.id, "].", normalized.status().message()));
    added.normalized = *normalized;
    SetToken(added.id, added.content);
    is_special_[added.id] = added.special;
    is_added_[added.id] = true;
    has_normalized_added_ = has_normalized_added_ || added.normalized;
    added_.push_back(added);
  }
  for (size_t i = 0; i < added_.size(); ++i) {
    added_by_first_byte_[static_cast<unsigned char>(added_[i].content[0])].push_back(static_cast<int>(i));
  }
  for (auto& list : added_by_first_byte_) {
    std::sort(list.begin(), list.end(), [&](int a, int b) { return added_[a].content.size() > added_[b].content.size(); });
  }
  for (size_t id = 0; id < id_to_token_.size(); ++id) {
    if (id_to_token_[id].empty()) return Error(absl::StrCat("no token has id ", id, " (ids must be contiguous)"));
  }
  status = LoadNormalizer(JsonField(root, "normalizer"));
  if (!status.ok()) return status;
  status = LoadPreTokenizer(JsonField(root, "pre_tokenizer"));
  if (!status.ok()) return status;
  if (root.contains("decoder") && root["decoder"].is_object()) {
    absl::StatusOr<std::string> type = StringField(root["decoder"], "type", "");
    if (!type.ok()) return Error(absl::StrCat("decoder.", type.status().message()));
    if (*type != "ByteLevel") return Error(absl::StrCat("decoder \"", *type, "\" is not supported (ByteLevel)"));
  }
  return LoadConfig(config);
}

// Finds added tokens, leftmost-longest, honouring single_word, lstrip and rstrip.
void HfTokenizer::SplitAdded(const std::string& text, bool normalized_tokens, std::span<const TextRange> literal,
                             std::vector<Segment>* out) const {
  size_t segment_start = 0, i = 0;
  while (i < text.size()) {
    const AddedToken* found = nullptr;
    for (int index : added_by_first_byte_[static_cast<unsigned char>(text[i])]) {
      const AddedToken& token = added_[index];
      if (token.normalized != normalized_tokens) continue;
      if (text.compare(i, token.content.size(), token.content) != 0) continue;
      if (!literal.empty() && Overlaps(literal, i, i + token.content.size())) continue;
      if (token.single_word) {
        const size_t end = i + token.content.size();
        if ((i > 0 && IsWordByte(text[i - 1])) || (end < text.size() && IsWordByte(text[end]))) continue;
      }
      found = &token;
      break;
    }
    if (found == nullptr) {
      ++i;
      continue;
    }
    size_t start = i, end = i + found->content.size();
    if (found->lstrip) {
      // Step back over whole whitespace characters (Unicode's, as Rust's char::is_whitespace).
      while (start > segment_start) {
        size_t previous = start - 1;
        while (previous > segment_start && (static_cast<unsigned char>(text[previous]) & 0xc0) == 0x80) --previous;
        size_t probe = previous;
        if (!IsWhitespace(tokenizer::NextCodePoint(text, &probe))) break;
        start = previous;
      }
    }
    if (found->rstrip) {
      while (end < text.size()) {
        size_t probe = end;
        if (!IsWhitespace(tokenizer::NextCodePoint(text, &probe))) break;
        end = probe;
      }
    }
    if (start > segment_start) out->push_back({text.substr(segment_start, start - segment_start), -1, segment_start});
    out->push_back({text.substr(start, end - start), found->id, start});
    segment_start = i = end;
  }
  if (segment_start < text.size()) out->push_back({text.substr(segment_start), -1, segment_start});
}

std::string HfTokenizer::Normalize(const std::string& text) const {
  if (normalization_ == Normalization::kNone) return text;
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    return text;  // ASCII is invariant under every normalization form
  }
  const auto* in = reinterpret_cast<const utf8proc_uint8_t*>(text.c_str());
  utf8proc_uint8_t* normalized = nullptr;
  switch (normalization_) {
    case Normalization::kNfc: normalized = utf8proc_NFC(in); break;
    case Normalization::kNfd: normalized = utf8proc_NFD(in); break;
    case Normalization::kNfkc: normalized = utf8proc_NFKC(in); break;
    case Normalization::kNfkd: normalized = utf8proc_NFKD(in); break;
    case Normalization::kNone: break;
  }
  if (normalized == nullptr) return text;  // invalid UTF-8: leave it to the byte-level stage
  std::string out(reinterpret_cast<char*>(normalized));
  free(normalized);
  return out;
}

void HfTokenizer::EncodePiece(const std::string& piece, std::vector<int32_t>* out) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(piece);
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  if (ignore_merges_) {
    std::string spelling;
    for (unsigned char b : piece) spelling += tokenizer::ByteToUtf8(b);
    if (auto it = token_to_id_.find(spelling); it != token_to_id_.end()) ids.push_back(it->second);
  }
  if (ids.empty()) bpe_->Encode(piece, &ids);
  out->insert(out->end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() > 200000) cache_.clear();
  cache_.emplace(piece, std::move(ids));
}

void HfTokenizer::EncodeText(const std::string& raw, std::vector<int32_t>* out) const {
  std::string text = raw;
  if (byte_level_prefix_space_ && !text.empty() && text[0] != ' ') text.insert(text.begin(), ' ');
  // Each split step cuts every current piece further.
  std::vector<std::string> pieces = {text}, next;
  std::vector<std::pair<size_t, size_t>> matches;
  for (const SplitStep& step : splits_) {
    next.clear();
    for (const std::string& piece : pieces) {
      matches.clear();
      if (step.regex) {
        step.regex->FindMatches(piece, &matches);
      } else {
        for (size_t at = piece.find(step.literal); at != std::string::npos;
             at = piece.find(step.literal, at + step.literal.size())) {
          matches.emplace_back(at, at + step.literal.size());
        }
      }
      size_t previous = 0;
      for (const auto& [begin, end] : matches) {
        if (begin > previous) next.push_back(piece.substr(previous, begin - previous));
        if (!step.remove_matches) next.push_back(piece.substr(begin, end - begin));
        previous = end;
      }
      if (previous < piece.size()) next.push_back(piece.substr(previous));
    }
    pieces.swap(next);
  }
  for (const std::string& piece : pieces) EncodePiece(piece, out);
}

std::vector<int32_t> HfTokenizer::EncodeWithLiteralRanges(const std::string& text,
                                                          std::span<const TextRange> literal) const {
  std::vector<int32_t> ids;
  std::vector<Segment> raw_segments;
  SplitAdded(text, /*normalized_tokens=*/false, literal, &raw_segments);
  std::vector<TextRange> literal_here;
  std::vector<Segment> normalized_segments;
  size_t next_range = 0;  // the first literal range not wholly before the segment
  for (const Segment& segment : raw_segments) {
    if (segment.added_id >= 0) {
      ids.push_back(segment.added_id);
      continue;
    }
    std::string normalized = Normalize(segment.text);
    if (!has_normalized_added_) {
      EncodeText(normalized, &ids);
      continue;
    }
    // The literal ranges inside this segment, in its own offsets.
    literal_here.clear();
    const size_t segment_end = segment.offset + segment.text.size();
    while (next_range < literal.size() && literal[next_range].end <= segment.offset) ++next_range;
    for (size_t r = next_range; r < literal.size() && literal[r].begin < segment_end; ++r) {
      literal_here.push_back({std::max(literal[r].begin, segment.offset) - segment.offset,
                              std::min(literal[r].end, segment_end) - segment.offset});
    }
    normalized_segments.clear();
    if (literal_here.empty() || normalized == segment.text) {
      SplitAdded(normalized, /*normalized_tokens=*/true, literal_here, &normalized_segments);
    } else {
      // Normalizing moved bytes, so the ranges no longer say where the literal text is: each
      // piece between their edges is normalized on its own and the pieces joined again, the
      // ranges following them. The same ids as normalizing the whole, unless a character
      // composes across an edge (a combining accent opening a message).
      std::string joined;
      std::vector<TextRange> mapped;
      const auto append = [&](size_t begin, size_t end, bool is_literal) {
        const size_t start = joined.size();
        joined += Normalize(segment.text.substr(begin, end - begin));
        if (is_literal && joined.size() > start) mapped.push_back({start, joined.size()});
      };
      size_t at = 0;
      for (const TextRange& range : literal_here) {
        if (range.begin > at) append(at, range.begin, false);
        append(range.begin, range.end, true);
        at = range.end;
      }
      if (at < segment.text.size()) append(at, segment.text.size(), false);
      SplitAdded(joined, /*normalized_tokens=*/true, mapped, &normalized_segments);
    }
    for (const Segment& part : normalized_segments) {
      if (part.added_id >= 0) {
        ids.push_back(part.added_id);
      } else {
        EncodeText(part.text, &ids);
      }
    }
  }
  return ids;
}

std::string HfTokenizer::Decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    if (skip_special_tokens && is_special_[id]) continue;
    bytes += id_to_bytes_[id];
  }
  return ToValidUtf8(bytes);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::shared_ptr<const TokenTrie> Tokenizer::token_trie() const {
  std::call_once(trie_built_, [this] { trie_ = TokenTrie::Build(*this); });
  return trie_;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(const std::string& tokenizer_json,
                                                              const std::string& config_json,
                                                              const std::string& source) {
  // A tokenizer nests a few levels; a file nested hundreds deep is damaged or hostile, and copying
  // its values would recurse once per level.
  for (const std::string* text : {&tokenizer_json, &config_json}) {
    if (JsonNestedTooDeeply(*text)) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": nested more than ", kMaxJsonNesting, " levels deep"));
    }
  }
  Json root = Json::parse(tokenizer_json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(source, ": not valid JSON"));
  Json config;
  if (!config_json.empty()) {
    config = Json::parse(config_json, nullptr, false);
    if (config.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": tokenizer_config.json is not valid JSON"));
    }
  }
  auto tokenizer = std::make_unique<HfTokenizer>();
  absl::Status status = tokenizer->Init(root, config, source);
  if (!status.ok()) return status;
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  if (IsGgufPath(dir)) {  // the vocabulary in a GGUF file's metadata
    absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(dir);
    if (!file.ok()) return file.status();
    absl::StatusOr<GgufTokenizerFiles> files = ReadGgufTokenizer(**file);
    if (!files.ok()) return files.status();
    return FromJson(files->tokenizer_json, files->tokenizer_config_json, dir);
  }
  const std::string path = (fs::path(dir) / "tokenizer.json").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return absl::NotFoundError(absl::StrCat(path, ": not found"));
  std::string tokenizer_json = ReadFileOrEmpty(path);
  std::string config_json = ReadFileOrEmpty((fs::path(dir) / "tokenizer_config.json").string());
  return FromJson(tokenizer_json, config_json, path);
}

}  // namespace engine
