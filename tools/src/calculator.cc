// A recursive-descent evaluator for the calculator tool: no variables, no side effects, bounded
// input length and nesting.
#include <cctype>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "tools/tool_registry.h"

namespace tools {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  absl::StatusOr<double> Parse() {
    double value = Expression();
    SkipSpaces();
    if (error_.empty() && pos_ < text_.size()) Fail(absl::StrCat("unexpected '", std::string(1, text_[pos_]), "'"));
    if (!error_.empty()) return absl::InvalidArgumentError(absl::StrCat("expression: ", error_, " at position ", pos_ + 1));
    if (!std::isfinite(value)) return absl::InvalidArgumentError("expression: the result is not a finite number");
    return value;
  }

 private:
  void Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }
  void SkipSpaces() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Accept(char c) {
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  double Expression() {
    if (++depth_ > 100) {
      Fail("nested too deeply");
      return 0;
    }
    double value = Term();
    while (error_.empty()) {
      if (Accept('+')) value += Term();
      else if (Accept('-')) value -= Term();
      else break;
    }
    --depth_;
    return value;
  }
  double Term() {
    double value = Power();
    while (error_.empty()) {
      if (Accept('*')) {
        value *= Power();
      } else if (Accept('/')) {
        double d = Power();
        if (d == 0) Fail("division by zero");
        else value /= d;
      } else if (Accept('%')) {
        double d = Power();
        if (d == 0) Fail("division by zero");
        else value = std::fmod(value, d);
      } else {
        break;
      }
    }
    return value;
  }
  double Power() {
    double base = Unary();
    if (Accept('^')) return std::pow(base, Power());  // right-associative
    return base;
  }
  double Unary() {
    if (Accept('-')) return -Unary();
    if (Accept('+')) return Unary();
    return Primary();
  }
  double Primary() {
    SkipSpaces();
    if (Accept('(')) {
      double value = Expression();
      if (!Accept(')')) Fail("missing ')'");
      return value;
    }
    if (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) {
      size_t used = 0;
      double value = 0;
      try {
        value = std::stod(text_.substr(pos_), &used);
      } catch (...) {
        Fail("bad number");
        return 0;
      }
      pos_ += used;
      return value;
    }
    std::string name;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) name += text_[pos_++];
    if (name.empty()) {
      Fail(pos_ < text_.size() ? absl::StrCat("unexpected '", std::string(1, text_[pos_]), "'") : "unexpected end");
      return 0;
    }
    if (name == "pi") return M_PI;
    if (name == "e") return M_E;
    if (!Accept('(')) {
      Fail(absl::StrCat("unknown name '", name, "'"));
      return 0;
    }
    std::vector<double> args;
    if (!Accept(')')) {
      do {
        args.push_back(Expression());
      } while (error_.empty() && Accept(','));
      if (!Accept(')')) Fail("missing ')'");
    }
    return Call(name, args);
  }
  double Call(const std::string& name, const std::vector<double>& a) {
    static const std::map<std::string, double (*)(double)> unary = {
        {"sqrt", [](double x) { return std::sqrt(x); }},   {"abs", [](double x) { return std::fabs(x); }},
        {"exp", [](double x) { return std::exp(x); }},     {"ln", [](double x) { return std::log(x); }},
        {"log", [](double x) { return std::log(x); }},     {"log10", [](double x) { return std::log10(x); }},
        {"log2", [](double x) { return std::log2(x); }},   {"sin", [](double x) { return std::sin(x); }},
        {"cos", [](double x) { return std::cos(x); }},     {"tan", [](double x) { return std::tan(x); }},
        {"asin", [](double x) { return std::asin(x); }},   {"acos", [](double x) { return std::acos(x); }},
        {"atan", [](double x) { return std::atan(x); }},   {"floor", [](double x) { return std::floor(x); }},
        {"ceil", [](double x) { return std::ceil(x); }},   {"round", [](double x) { return std::round(x); }}};
    if (auto it = unary.find(name); it != unary.end()) {
      if (a.size() != 1) Fail(absl::StrCat(name, " takes one argument"));
      return a.size() == 1 ? it->second(a[0]) : 0;
    }
    if (name == "pow" || name == "min" || name == "max") {
      if (a.size() < 2 || (name == "pow" && a.size() != 2)) {
        Fail(absl::StrCat(name, " takes ", name == "pow" ? "two arguments" : "at least two arguments"));
        return 0;
      }
      if (name == "pow") return std::pow(a[0], a[1]);
      double v = a[0];
      for (double x : a) v = name == "min" ? std::min(v, x) : std::max(v, x);
      return v;
    }
    Fail(absl::StrCat("unknown function '", name, "'"));
    return 0;
  }

  const std::string& text_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
};

}  // namespace

absl::StatusOr<double> EvaluateArithmetic(const std::string& expression) {
  if (expression.size() > 1000) return absl::InvalidArgumentError("expression: longer than 1000 characters");
  return Parser(expression).Parse();
}

}  // namespace tools
