#include "agentd/request_validator.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "agentd/v1/options.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace agentd {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status Invalid(const std::string& path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
}

std::string Join(const std::string& prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

class Validator {
 public:
  explicit Validator(const RequestLimits& limits) : limits_(limits) {}

  // `inherited_max_bytes` carries a map field's max_bytes down to its key and value.
  absl::Status Check(const Message& message, const std::string& prefix,
                     uint64_t inherited_max_bytes = 0) {
    const Descriptor* descriptor = message.GetDescriptor();
    const Reflection* reflection = message.GetReflection();
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const FieldDescriptor* field = descriptor->field(i);
      const auto& options = field->options();
      uint64_t max_bytes = options.GetExtension(agentd::v1::max_bytes);
      if (max_bytes == 0) max_bytes = inherited_max_bytes;
      if (max_bytes == 0) max_bytes = limits_.max_field_bytes;
      const bool required = options.GetExtension(agentd::v1::required);
      std::string path = Join(prefix, field->name());

      if (field->is_repeated()) {
        int size = reflection->FieldSize(message, field);
        uint32_t max_items = options.GetExtension(agentd::v1::max_items);
        if (max_items == 0) max_items = limits_.max_items;
        if (required && size == 0) return Invalid(path, "is required (at least one item)");
        if (static_cast<uint64_t>(size) > max_items) {
          return Invalid(path, absl::StrCat("has ", size, " items; at most ", max_items, " allowed"));
        }
        for (int j = 0; j < size; ++j) {
          absl::Status status = CheckRepeatedElement(message, field, j, path, max_bytes);
          if (!status.ok()) return status;
        }
        continue;
      }

      // Singular fields. Unset oneof members are skipped unless required.
      if (field->containing_oneof() != nullptr && !reflection->HasField(message, field)) {
        if (required) return Invalid(path, "is required");
        continue;
      }
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: {
          std::string scratch;
          const std::string& value = reflection->GetStringReference(message, field, &scratch);
          if (required && value.empty()) return Invalid(path, "is required");
          if (value.size() > max_bytes) {
            return Invalid(path, absl::StrCat("is ", value.size(), " bytes; at most ", max_bytes,
                                              " allowed"));
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_ENUM: {
          int value = reflection->GetEnumValue(message, field);
          absl::Status status = CheckEnum(field, value, path);
          if (!status.ok()) return status;
          if (required && value == 0) {
            return Invalid(path, absl::StrCat("is required (one of ", EnumChoices(field), ")"));
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          if (!reflection->HasField(message, field)) {
            if (required) return Invalid(path, "is required");
            break;
          }
          absl::Status status = Check(reflection->GetMessage(message, field), path);
          if (!status.ok()) return status;
          break;
        }
        default:
          if (required && IsZeroNumber(message, reflection, field)) {
            return Invalid(path, "is required (non-zero)");
          }
          break;
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status CheckRepeatedElement(const Message& message, const FieldDescriptor* field, int j,
                                    const std::string& path, uint64_t max_bytes) {
    const Reflection* reflection = message.GetReflection();
    std::string element_path = absl::StrCat(path, "[", j, "]");
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& value =
            reflection->GetRepeatedStringReference(message, field, j, &scratch);
        if (value.size() > max_bytes) {
          return Invalid(element_path, absl::StrCat("is ", value.size(), " bytes; at most ",
                                                    max_bytes, " allowed"));
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        return CheckEnum(field, reflection->GetRepeatedEnumValue(message, field, j), element_path);
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const Message& element = reflection->GetRepeatedMessage(message, field, j);
        if (field->is_map()) {
          // Name the entry by its key, which is what the caller wrote.
          const FieldDescriptor* key_field = element.GetDescriptor()->map_key();
          std::string key_text;
          if (key_field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
            key_text = absl::StrCat("\"", element.GetReflection()->GetString(element, key_field),
                                    "\"");
            if (key_text.size() > 66) key_text = absl::StrCat(key_text.substr(0, 63), "...\"");
          } else {
            key_text = std::to_string(j);
          }
          return Check(element, absl::StrCat(path, "[", key_text, "]"), max_bytes);
        }
        return Check(element, element_path);
      }
      default:
        return absl::OkStatus();
    }
  }

  static absl::Status CheckEnum(const FieldDescriptor* field, int value, const std::string& path) {
    if (field->enum_type()->FindValueByNumber(value) == nullptr) {
      return Invalid(path, absl::StrCat("unknown value ", value, " for ",
                                        field->enum_type()->full_name(), " (one of ",
                                        EnumChoices(field), ")"));
    }
    return absl::OkStatus();
  }

  static std::string EnumChoices(const FieldDescriptor* field) {
    std::string out;
    const auto* type = field->enum_type();
    for (int i = 0; i < type->value_count(); ++i) {
      if (type->value(i)->number() == 0) continue;
      if (!out.empty()) out += ", ";
      out += type->value(i)->name();
    }
    return out;
  }

  static bool IsZeroNumber(const Message& m, const Reflection* r, const FieldDescriptor* f) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: return r->GetInt32(m, f) == 0;
      case FieldDescriptor::CPPTYPE_INT64: return r->GetInt64(m, f) == 0;
      case FieldDescriptor::CPPTYPE_UINT32: return r->GetUInt32(m, f) == 0;
      case FieldDescriptor::CPPTYPE_UINT64: return r->GetUInt64(m, f) == 0;
      case FieldDescriptor::CPPTYPE_FLOAT: return r->GetFloat(m, f) == 0;
      case FieldDescriptor::CPPTYPE_DOUBLE: return r->GetDouble(m, f) == 0;
      case FieldDescriptor::CPPTYPE_BOOL: return !r->GetBool(m, f);
      default: return false;
    }
  }

  const RequestLimits& limits_;
};

// Names the biggest top-level field, the one a caller has to shrink.
std::string LargestField(const Message& message) {
  const Descriptor* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  std::string best;
  size_t best_size = 0;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    size_t size = 0;
    if (field->is_repeated()) {
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          size += reflection->GetRepeatedString(message, field, j).size();
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          size += reflection->GetRepeatedMessage(message, field, j).ByteSizeLong();
        } else {
          size += 8;
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      size = reflection->GetString(message, field).size();
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               reflection->HasField(message, field)) {
      size = reflection->GetMessage(message, field).ByteSizeLong();
    }
    if (size > best_size) {
      best_size = size;
      best = field->name();
    }
  }
  return best.empty() ? "request" : best;
}

}  // namespace

absl::Status ValidateRequest(const Message& request, const RequestLimits& limits) {
  size_t size = request.ByteSizeLong();
  if (size > limits.max_request_bytes) {
    return Invalid(LargestField(request),
                   absl::StrCat("request is ", size, " bytes; at most ", limits.max_request_bytes,
                                " allowed (limits.max_request_bytes)"));
  }
  return Validator(limits).Check(request, "");
}

}  // namespace agentd
