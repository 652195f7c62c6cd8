// Forms of one word that the lexical terms keep apart, brought together for ranking. Snowball's
// English stemmer takes "prices fall" and "prices falling" to "fall" but leaves "prices fell" at
// "fell", so "By how much did inference prices fall?" shared no verb with "…the price … fell
// roughly tenfold"; and "How much faster is decoding with 4-bit weights?" shared no number with
// "Four-bit weights can make decoding up to three times faster". The sentence ranker scores a
// passage's sentences against a question with terms folded through this table: irregular past
// forms to their verb's term, numbers one to twelve spelled out to their digits. (The stored
// index is not folded: its postings keep the version they were made with.)
//
//   const WordForms forms;
//   std::vector<std::string> terms = LexicalTerms("four prices fell");   // {"four", "price", "fell"}
//   forms.Fold(terms);                                                    // {"4", "price", "fall"}
#ifndef AGENTD_MEMORY_WORD_FORMS_H_
#define AGENTD_MEMORY_WORD_FORMS_H_

#include <string>
#include <unordered_map>
#include <vector>

namespace memory::internal {

class WordForms {
 public:
  // Makes each form's term and its base's term as LexicalTerms does, so the table meets the
  // terms whatever the stemmer makes of them ("became" → "becam", "become" → "becom").
  WordForms();

  // Replaces each folded form among `terms` with its base's term.
  void Fold(std::vector<std::string>& terms) const;

  // `terms`, each followed by the other forms of its word (its base's and those folding to it),
  // each term once: what a search of the unfolded index looks for ("Why did coffee prices
  // rise…?" meets "## Why prices rose").
  std::vector<std::string> WithForms(const std::vector<std::string>& terms) const;

 private:
  std::unordered_map<std::string, std::string> base_of_;
  std::unordered_map<std::string, std::vector<std::string>> forms_of_;  // base → the forms folding to it
};

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_WORD_FORMS_H_
