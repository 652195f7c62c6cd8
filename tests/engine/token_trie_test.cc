// The vocabulary's prefix tree and the constrained-decoding mask walked over it: the mask is
// exactly what feeding every token to its own copy of the matcher gave (on Qwen3's 151,669
// tokens, through many states of several constraints), while each shared prefix is read once.
#include "engine/token_trie.h"

#include <map>
#include <random>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "constraint/cited_text_matcher.h"
#include "constraint/json_matcher.h"
#include "constraint/literal_choice_matcher.h"
#include "constraint/matcher_constraint.h"
#include "constraint/quote_matcher.h"
#include "engine/constraint.h"
#include "engine/tokenizer.h"

namespace engine {
namespace {

const Tokenizer& QwenTokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    auto loaded = Tokenizer::Load(std::string(AGENTD_TEST_DATA_DIR) + "/tokenizers/qwen3");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return std::move(*loaded);
  }();
  return *tokenizer;
}

bool Ordinary(const Tokenizer& tokenizer, int32_t id) {
  return !tokenizer.IsSpecial(id) && !tokenizer.IsAdded(id) && !tokenizer.TokenBytes(id).empty();
}

TEST(TokenTrieTest, HoldsEveryOrdinaryTokenOnceUnderItsBytes) {
  const Tokenizer& tokenizer = QwenTokenizer();
  std::shared_ptr<const TokenTrie> trie = tokenizer.token_trie();
  ASSERT_NE(trie, nullptr);
  // Built once per tokenizer and shared.
  EXPECT_EQ(tokenizer.token_trie().get(), trie.get());
  EXPECT_EQ(trie->vocab_size(), tokenizer.vocab_size());

  // Every path from the root spells the bytes of the tokens found at its end.
  std::map<int32_t, std::string> found;
  std::string path;
  std::function<void(const TokenTrie::Node&)> walk = [&](const TokenTrie::Node& node) {
    for (int32_t id : trie->tokens(node)) EXPECT_TRUE(found.emplace(id, path).second) << "token " << id << " twice";
    int previous = -1, children = 0;
    for (const TokenTrie::Node* child = trie->first_child(node); child != nullptr; child = trie->next_sibling(*child)) {
      EXPECT_LT(previous, child->byte) << "children out of order under \"" << path << "\"";
      previous = child->byte;
      ++children;
      path.push_back(static_cast<char>(child->byte));
      walk(*child);
      path.pop_back();
    }
    EXPECT_EQ(children, node.child_count);
  };
  walk(trie->root());
  uint64_t ordinary = 0, bytes = 0;
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    if (!Ordinary(tokenizer, id)) {
      EXPECT_FALSE(found.contains(id)) << "special or added token " << id << " in the trie";
      EXPECT_TRUE(trie->bytes(id).empty());
      continue;
    }
    ++ordinary;
    bytes += tokenizer.TokenBytes(id).size();
    ASSERT_TRUE(found.contains(id)) << "token " << id << " missing";
    EXPECT_EQ(found[id], tokenizer.TokenBytes(id));
    EXPECT_EQ(trie->bytes(id), tokenizer.TokenBytes(id));
  }
  EXPECT_EQ(found.size(), ordinary);
  EXPECT_EQ(trie->total_token_bytes(), bytes);
  std::printf("  %llu ordinary tokens, %llu bytes in all, %zu trie nodes\n", static_cast<unsigned long long>(ordinary),
              static_cast<unsigned long long>(bytes), trie->node_count());
}

// The mask as it was computed before the trie: each token's bytes fed to its own copy of the
// matcher, straight from the tokenizer.
template <typename Matcher>
std::vector<char> FeedingEachToken(const Tokenizer& tokenizer, const Matcher& matcher) {
  std::vector<char> allowed(tokenizer.vocab_size(), 0);
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    if (!Ordinary(tokenizer, id)) continue;
    Matcher m = matcher;
    bool ok = true;
    for (char c : tokenizer.TokenBytes(id)) {
      if (!(ok = m.Accept(static_cast<uint8_t>(c)))) break;
    }
    allowed[id] = ok ? 1 : 0;
  }
  return allowed;
}

// Drives `constraint` and a copy of its matcher through `steps` random admitted tokens,
// comparing the constraint's mask with the per-token one at every state; returns the states
// compared.
template <typename Matcher>
int CompareAlongARandomPath(const std::string& what, TokenConstraint& constraint, Matcher matcher, int steps,
                            uint32_t seed) {
  const Tokenizer& tokenizer = QwenTokenizer();
  std::mt19937 rng(seed);
  std::vector<float> logits(tokenizer.vocab_size());
  int compared = 0;
  for (int step = 0; step < steps; ++step) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    constraint.Mask(logits, {});
    const std::vector<char> expected = FeedingEachToken(tokenizer, matcher);
    std::vector<int32_t> admitted;
    int differences = 0;
    int32_t first_difference = -1;
    for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
      const bool masked_in = logits[id] == 0.0f;
      if (masked_in != static_cast<bool>(expected[id])) {
        if (differences++ == 0) first_difference = id;
      }
      if (expected[id]) admitted.push_back(id);
    }
    ++compared;
    EXPECT_EQ(differences, 0) << what << ", step " << step << ": first at token " << first_difference << " ("
                              << tokenizer.TokenString(first_difference) << "), expected "
                              << static_cast<int>(expected[first_difference]);
    if (differences != 0 || admitted.empty()) break;
    // Mostly short tokens, so paths go deep into the structure rather than ending in one string.
    int32_t token = admitted[rng() % admitted.size()];
    for (int tries = 0; tries < 8 && tokenizer.TokenBytes(token).size() > 3; ++tries) {
      token = admitted[rng() % admitted.size()];
    }
    EXPECT_TRUE(constraint.Advance(token).ok()) << what << ", step " << step;
    for (char c : tokenizer.TokenBytes(token)) EXPECT_TRUE(matcher.Accept(static_cast<uint8_t>(c)));
  }
  return compared;
}

std::unique_ptr<TokenConstraint> Make(const ResponseConstraint& spec) {
  auto created = TokenConstraint::Create(spec, QwenTokenizer());
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? std::move(*created) : nullptr;
}

// A malformed tokenizer file with a token of 100,000 bytes: the trie leaves it out (constrained
// output never emits it) instead of letting it set how deep the walks over the tree recurse.
TEST(TokenTrieTest, LeavesOutATokenLongerThanAnyRealOne) {
  const std::string huge(100000, 'a');
  const std::string json = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, ")" + huge + R"(": 2,
      "aa": 3}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
      "decoder": {"type": "ByteLevel"}})";
  auto tokenizer = Tokenizer::FromJson(json, "", "t.json");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  ASSERT_EQ((*tokenizer)->TokenBytes(2).size(), huge.size());
  std::shared_ptr<const TokenTrie> trie = (*tokenizer)->token_trie();
  EXPECT_TRUE(trie->bytes(2).empty());
  EXPECT_EQ(trie->bytes(3), "aa");
  EXPECT_EQ(trie->max_token_bytes(), 2u);
  auto constraint = TokenConstraint::Create(ResponseConstraint{.kind = ResponseConstraint::Kind::kJsonSchema,
                                                               .json_schema = R"({"type": "string"})"},
                                            **tokenizer);
  ASSERT_TRUE(constraint.ok()) << constraint.status();
  EXPECT_FALSE((*constraint)->Advance(2).ok());
}

TEST(TrieMaskTest, AdmitsExactlyTheTokensFeedingEachTokenAdmits) {
  using Kind = ResponseConstraint::Kind;
  const std::vector<std::string> schemas = {
      // Objects, arrays, bounded strings, an enum, integers, an anyOf with null.
      R"({"type": "object", "properties": {
           "title": {"type": "string", "minLength": 1, "maxLength": 12},
           "sections": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "object", "properties": {
             "heading": {"type": "string", "maxLength": 8}, "level": {"type": "integer"},
             "kind": {"enum": ["intro", "body", "conclusion"]}, "draft": {"type": "boolean"}},
             "required": ["heading", "kind"]}},
           "note": {"anyOf": [{"type": "string", "maxLength": 4}, {"type": "null"}]}},
         "required": ["title", "sections"]})",
      // Sixteen string alternatives open at once (the most allowed).
      R"({"anyOf": [{"type": "string", "maxLength": 1}, {"type": "string", "maxLength": 2},
                    {"type": "string", "maxLength": 3}, {"type": "string", "maxLength": 4},
                    {"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 6},
                    {"type": "string", "maxLength": 7}, {"type": "string", "maxLength": 8},
                    {"type": "string", "maxLength": 9}, {"type": "string", "maxLength": 10},
                    {"type": "string", "maxLength": 11}, {"type": "string", "maxLength": 12},
                    {"type": "integer"}, {"type": "number"}, {"const": "东方"}, {"type": "array"}]})",
      // Numbers and literals only.
      R"({"type": "array", "items": {"anyOf": [{"type": "number"}, {"enum": [true, "yes", "是的", -1]}]}, "maxItems": 6})",
      // Any JSON value.
      "",
  };
  int compared = 0;
  for (size_t i = 0; i < schemas.size(); ++i) {
    for (uint32_t seed : {1u, 2u}) {
      const ResponseConstraint spec = schemas[i].empty()
                                          ? ResponseConstraint{.kind = Kind::kJsonValue}
                                          : ResponseConstraint{.kind = Kind::kJsonSchema, .json_schema = schemas[i]};
      auto constraint = Make(spec);
      ASSERT_NE(constraint, nullptr);
      auto schema = constraint::CompiledSchema::Compile(schemas[i]);
      ASSERT_TRUE(schema.ok()) << schema.status();
      compared += CompareAlongARandomPath("schema " + std::to_string(i), *constraint,
                                          constraint::JsonMatcher(*schema), 12, seed);
    }
  }
  {
    const ResponseConstraint spec{.kind = Kind::kCitedText, .max_citation = 12};
    compared += CompareAlongARandomPath("cited text", *Make(spec), constraint::CitedTextMatcher(12), 8, 3);
  }
  {
    const ResponseConstraint spec{.kind = Kind::kLiteralChoice, .choices = {"search", "search_web", "fetch", "搜索"}};
    auto choices = std::make_shared<const std::vector<std::string>>(spec.choices);
    compared += CompareAlongARandomPath("literal choice", *Make(spec), constraint::LiteralChoiceMatcher(choices), 8, 4);
  }
  {
    const ResponseConstraint spec{.kind = Kind::kQuotedSentences,
                                  .quotes = {{"装机量增长了 35%。", 1}, {"Growth was strong.", 2}, {"Growth slowed.", 3}},
                                  .max_units = 2,
                                  .quote_separator = " "};
    auto set = constraint::QuoteSet::Create(spec);
    ASSERT_TRUE(set.ok()) << set.status();
    compared += CompareAlongARandomPath("quoted sentences", *Make(spec), constraint::QuoteMatcher(*set), 12, 5);
  }
  EXPECT_GT(compared, 80);
}

// Counts what the mask asks of its matcher.
struct Work {
  int64_t accepts = 0;
  int64_t copies = 0;
};

class CountingMatcher {
 public:
  explicit CountingMatcher(Work* work) : work_(work) {}
  CountingMatcher(const CountingMatcher& other) : work_(other.work_) { ++work_->copies; }
  CountingMatcher& operator=(const CountingMatcher& other) {
    work_ = other.work_;
    ++work_->copies;
    return *this;
  }
  bool Accept(uint8_t) {
    ++work_->accepts;
    return true;
  }
  bool IsComplete() const { return false; }

 private:
  Work* work_;
};

// Feeding every token to its own copy of the matcher read 45 ms worth of bytes per step for a
// single JSON alternative with Qwen3's vocabulary; the walk over the trie reads each prefix once
// and copies the matcher only where the tree branches.
TEST(TrieMaskTest, ReadsEachSharedPrefixOnceAndCopiesOnlyWhereTheTreeBranches) {
  const Tokenizer& tokenizer = QwenTokenizer();
  std::shared_ptr<const TokenTrie> trie = tokenizer.token_trie();
  Work work;
  constraint::MatcherConstraint<CountingMatcher> constraint(CountingMatcher(&work), trie);
  work = {};
  std::vector<float> logits(tokenizer.vocab_size(), 0.0f);
  constraint.Mask(logits, {});

  int64_t branch_copies = 0, ordinary = 0;
  std::function<void(const TokenTrie::Node&)> walk = [&](const TokenTrie::Node& node) {
    if (node.child_count > 1) branch_copies += node.child_count - 1;
    for (const TokenTrie::Node* child = trie->first_child(node); child != nullptr; child = trie->next_sibling(*child)) {
      walk(*child);
    }
  };
  walk(trie->root());
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    if (Ordinary(tokenizer, id)) {
      ++ordinary;
      EXPECT_EQ(logits[id], 0.0f) << "token " << id << " masked by a matcher that accepts everything";
    }
  }
  // One byte read per node below the root: every prefix once.
  EXPECT_EQ(work.accepts, static_cast<int64_t>(trie->node_count()) - 1);
  // Token by token, the vocabulary's bytes were read whole: with Qwen3's, 975,969 bytes where
  // its trie has 333,009 nodes below the root.
  EXPECT_LT(work.accepts * 2, static_cast<int64_t>(trie->total_token_bytes()));
  // One copy per branch beyond its first child, and the walk's own starting copy.
  EXPECT_EQ(work.copies, branch_copies + 1);
  EXPECT_LT(work.copies, ordinary);
  std::printf("  accepts %lld (token bytes %llu), copies %lld (ordinary tokens %lld)\n",
              static_cast<long long>(work.accepts), static_cast<unsigned long long>(trie->total_token_bytes()),
              static_cast<long long>(work.copies), static_cast<long long>(ordinary));
}

}  // namespace
}  // namespace engine
