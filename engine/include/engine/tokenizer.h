// Byte-level BPE tokenization as Hugging Face `tokenizers` does it, read from a model's
// tokenizer.json (+ tokenizer_config.json): added and special tokens, the normalizer (NFC or
// none), the pre-tokenizer (a Sequence of regex Splits, matched with Oniguruma as HF does, then
// ByteLevel), merges applied by rank, and the ByteLevel decoder. Encodings are identical to
// HF's for the DeepSeek-V3 and Qwen3 tokenizers.
//
//   auto tokenizer = engine::Tokenizer::Load("/models/x");
//   std::vector<int32_t> ids = (*tokenizer)->Encode("深度求索 DeepSeek");   // no BOS/EOS added
//   std::string text = (*tokenizer)->Decode(ids);
//
// Streaming output goes through IncrementalDecoder, which never emits half a UTF-8 character.
#ifndef AGENTD_ENGINE_TOKENIZER_H_
#define AGENTD_ENGINE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/token_trie.h"

namespace engine {

// Bytes [begin, end) of a text.
struct TextRange {
  size_t begin = 0;
  size_t end = 0;
};

class Tokenizer {
 public:
  // Reads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json; given a *.gguf file,
  // the vocabulary, merges and special tokens in its metadata (gpt2 model; qwen2, deepseek-v3
  // or deepseek-llm pre-tokenizer).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& dir);
  // From the files' contents; `config_json` may be empty. `source` names them in errors.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromJson(const std::string& tokenizer_json,
                                                            const std::string& config_json,
                                                            const std::string& source);
  virtual ~Tokenizer() = default;

  // Token ids of `text`, without BOS/EOS. Added tokens written in the text (such as
  // "<|im_start|>") become their ids, as HF does.
  std::vector<int32_t> Encode(const std::string& text) const { return EncodeWithLiteralRanges(text, {}); }
  // As Encode, except that inside the `literal` ranges (sorted, not overlapping) an added token's
  // spelling is ordinary text: a chat prompt's messages, so that a message — or a web page or
  // document quoted in one — spelling "<|im_end|>" cannot end its turn and write the next. A
  // text with no added token's spelling inside its literal ranges gets exactly Encode's ids
  // (with a normalizer that moves bytes and "normalized" added tokens, none of the shipped
  // models: unless a character composes across a range's edge).
  virtual std::vector<int32_t> EncodeWithLiteralRanges(const std::string& text,
                                                       std::span<const TextRange> literal) const = 0;
  // Text of `ids`; invalid UTF-8 from a cut byte sequence becomes U+FFFD.
  virtual std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const = 0;
  // The raw bytes one token stands for (for incremental decoding).
  virtual const std::string& TokenBytes(int32_t id) const = 0;
  // The vocabulary's spelling of a token ("Ġhello", "<|im_end|>"); empty for an unknown id.
  virtual std::string TokenString(int32_t id) const = 0;
  virtual std::optional<int32_t> TokenId(const std::string& token) const = 0;
  virtual bool IsSpecial(int32_t id) const = 0;
  // One of tokenizer.json's added_tokens (special or not, e.g. "<｜Assistant｜>").
  virtual bool IsAdded(int32_t id) const = 0;
  // One past the largest id (base vocabulary and added tokens).
  virtual int32_t vocab_size() const = 0;

  // From tokenizer_config.json: BOS/EOS tokens and whether callers should add them.
  virtual std::optional<int32_t> bos_id() const = 0;
  virtual std::optional<int32_t> eos_id() const = 0;
  virtual bool add_bos() const = 0;

  // The ordinary tokens as a prefix tree (constrained decoding walks it every step), built on
  // the first call (~40 ms for Qwen3's vocabulary) and then shared by every constrained request
  // on this tokenizer; thread-safe.
  std::shared_ptr<const TokenTrie> token_trie() const;

 private:
  mutable std::once_flag trie_built_;
  mutable std::shared_ptr<const TokenTrie> trie_;
};

// Turns a stream of token ids into text, holding back bytes until they complete a character.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer* tokenizer, bool skip_special_tokens = false)
      : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}
  // The text that became complete with this token (possibly empty).
  std::string Push(int32_t id);
  // Whatever is still held back, with U+FFFD for an incomplete character.
  std::string Flush();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::string pending_;
};

// Length of the longest prefix of `bytes` that is complete UTF-8, treating invalid bytes as
// complete (they are replaced when emitted). Used to hold back a character cut in two.
size_t CompleteUtf8Prefix(const std::string& bytes);
// `bytes` with every invalid UTF-8 sequence replaced by U+FFFD (as Rust's from_utf8_lossy).
std::string ToValidUtf8(const std::string& bytes);

}  // namespace engine

#endif  // AGENTD_ENGINE_TOKENIZER_H_
