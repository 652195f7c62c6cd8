#include "engine/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"

namespace engine {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read little-endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxArrayElements = uint64_t{1} << 22;

// gguf_type: the metadata value types.
enum ValueType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6, kBool = 7,
  kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};

struct TypeLayout {
  uint32_t type;
  const char* name;
  uint64_t block;        // weights per block
  uint64_t block_bytes;  // bytes per block
};

// ggml's types with their block layout: the known ones are read, the others are at least
// measured, so a file of another scheme opens and says which type it uses.
constexpr TypeLayout kLayouts[] = {
    {0, "F32", 1, 4},       {1, "F16", 1, 2},       {2, "Q4_0", 32, 18},    {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},    {7, "Q5_1", 32, 24},    {8, "Q8_0", 32, 34},    {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},  {11, "Q3_K", 256, 110}, {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210}, {15, "Q8_K", 256, 292}, {24, "I8", 1, 1},       {25, "I16", 1, 2},
    {26, "I32", 1, 4},      {27, "I64", 1, 8},      {28, "F64", 1, 8},      {30, "BF16", 1, 2},
};

const TypeLayout* LayoutOf(uint32_t type) {
  for (const TypeLayout& layout : kLayouts) {
    if (layout.type == type) return &layout;
  }
  return nullptr;
}

// Reads little-endian values from [at, end); every read checks the bytes left first.
class Cursor {
 public:
  Cursor(const uint8_t* begin, const uint8_t* end, const std::string& path) : begin_(begin), at_(begin), end_(end), path_(path) {}

  uint64_t left() const { return static_cast<uint64_t>(end_ - at_); }
  uint64_t offset() const { return static_cast<uint64_t>(at_ - begin_); }

  absl::Status Corrupt(absl::string_view what) const {
    return absl::DataLossError(absl::StrCat("GGUF file ", path_, ": ", what, " (at byte ", offset(), ")"));
  }

  template <typename T>
  absl::StatusOr<T> Read(absl::string_view what) {
    if (left() < sizeof(T)) return Corrupt(absl::StrCat("truncated in ", what));
    T value;
    std::memcpy(&value, at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }

  absl::StatusOr<std::string> ReadString(absl::string_view what) {
    absl::StatusOr<uint64_t> length = Read<uint64_t>(what);
    if (!length.ok()) return length.status();
    if (*length > left()) return Corrupt(absl::StrCat(what, ": a string of ", *length, " bytes with ", left(), " left"));
    std::string out(reinterpret_cast<const char*>(at_), static_cast<size_t>(*length));
    at_ += *length;
    return out;
  }

 private:
  const uint8_t* begin_;
  const uint8_t* at_;
  const uint8_t* end_;
  const std::string& path_;
};

// The smallest encoding of one element of a type: what bounds an array's count by the bytes left.
uint64_t MinimumBytes(uint32_t type) {
  switch (type) {
    case kUint8: case kInt8: case kBool: return 1;
    case kUint16: case kInt16: return 2;
    case kUint32: case kInt32: case kFloat32: return 4;
    case kUint64: case kInt64: case kFloat64: case kString: return 8;
    default: return 0;
  }
}

// One scalar of `type` as an integer or a double; strings elsewhere.
absl::Status ReadScalar(Cursor& in, uint32_t type, const std::string& key, GgufValue* out) {
  auto take = [&](auto tag) -> absl::Status {
    using T = decltype(tag);
    absl::StatusOr<T> v = in.Read<T>(key);
    if (!v.ok()) return v.status();
    if constexpr (std::is_floating_point_v<T>) {
      out->kind = GgufValue::Kind::kNumber;
      out->number = static_cast<double>(*v);
    } else {
      if constexpr (std::is_same_v<T, uint64_t>) {
        if (*v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return in.Corrupt(absl::StrCat(key, ": ", *v, " is out of range"));
        }
      }
      out->kind = GgufValue::Kind::kInteger;
      out->integer = static_cast<int64_t>(*v);
      out->number = static_cast<double>(*v);
    }
    return absl::OkStatus();
  };
  switch (type) {
    case kUint8: return take(uint8_t{});
    case kInt8: return take(int8_t{});
    case kUint16: return take(uint16_t{});
    case kInt16: return take(int16_t{});
    case kUint32: return take(uint32_t{});
    case kInt32: return take(int32_t{});
    case kUint64: return take(uint64_t{});
    case kInt64: return take(int64_t{});
    case kFloat32: return take(float{});
    case kFloat64: return take(double{});
    case kBool: {
      absl::Status status = take(uint8_t{});
      if (status.ok() && out->integer > 1) return in.Corrupt(absl::StrCat(key, ": a bool of ", out->integer));
      return status;
    }
    default: return in.Corrupt(absl::StrCat(key, ": unknown value type ", type));
  }
}

absl::Status ReadValue(Cursor& in, const std::string& key, GgufValue* out) {
  absl::StatusOr<uint32_t> type = in.Read<uint32_t>(key);
  if (!type.ok()) return type.status();
  if (*type == kString) {
    absl::StatusOr<std::string> s = in.ReadString(key);
    if (!s.ok()) return s.status();
    out->kind = GgufValue::Kind::kString;
    out->string = std::move(*s);
    return absl::OkStatus();
  }
  if (*type != kArray) return ReadScalar(in, *type, key, out);
  absl::StatusOr<uint32_t> element = in.Read<uint32_t>(key);
  if (!element.ok()) return element.status();
  absl::StatusOr<uint64_t> count = in.Read<uint64_t>(key);
  if (!count.ok()) return count.status();
  if (*element == kArray) return in.Corrupt(absl::StrCat(key, ": arrays of arrays are not supported"));
  const uint64_t minimum = MinimumBytes(*element);
  if (minimum == 0) return in.Corrupt(absl::StrCat(key, ": unknown array element type ", *element));
  // Every element takes at least `minimum` bytes: a count the file cannot hold is refused before
  // anything is allocated for it.
  if (*count > in.left() / minimum) {
    return in.Corrupt(absl::StrCat(key, ": an array of ", *count, " elements with ", in.left(), " bytes left"));
  }
  // No vocabulary comes near this; a larger array is a file built to exhaust memory.
  if (*count > kMaxArrayElements) {
    return in.Corrupt(absl::StrCat(key, ": an array of ", *count, " elements (at most ", kMaxArrayElements, ")"));
  }
  if (*element == kString) {
    out->kind = GgufValue::Kind::kStringArray;
    out->strings.reserve(*count);
    for (uint64_t i = 0; i < *count; ++i) {
      absl::StatusOr<std::string> s = in.ReadString(key);
      if (!s.ok()) return s.status();
      out->strings.push_back(std::move(*s));
    }
    return absl::OkStatus();
  }
  out->kind = GgufValue::Kind::kNumberArray;
  out->numbers.reserve(*count);
  for (uint64_t i = 0; i < *count; ++i) {
    GgufValue item;
    absl::Status status = ReadScalar(in, *element, key, &item);
    if (!status.ok()) return status;
    out->numbers.push_back(item.number);
  }
  return absl::OkStatus();
}

}  // namespace

std::string GgmlTypeName(uint32_t type) {
  const TypeLayout* layout = LayoutOf(type);
  return layout != nullptr ? layout->name : absl::StrCat("ggml type ", type);
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  // Non-blocking: a FIFO under the name must not hold the caller; it is refused as not a file.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("GGUF file ", path, ": ", std::strerror(errno)));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("GGUF file ", path, ": not a regular file"));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 24) {
    close(fd);
    return absl::DataLossError(absl::StrCat("GGUF file ", path, ": only ", file_size, " bytes; too short for a header"));
  }
  void* mapping = mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapping == MAP_FAILED) return absl::InternalError(absl::StrCat("GGUF file ", path, ": mmap: ", std::strerror(errno)));
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  file->mapping_ = mapping;
  file->mapping_size_ = file_size;
  const uint8_t* bytes = static_cast<const uint8_t*>(mapping);
  Cursor in(bytes, bytes + file_size, file->path_);

  absl::StatusOr<uint32_t> magic = in.Read<uint32_t>("the magic");
  if (!magic.ok()) return magic.status();
  if (*magic != kMagic) return in.Corrupt("no GGUF magic");
  absl::StatusOr<uint32_t> version = in.Read<uint32_t>("the version");
  if (!version.ok()) return version.status();
  if (*version != 2 && *version != 3) {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", path, ": format version ", *version,
                                                 " (read: 2 and 3, little-endian)"));
  }
  file->version_ = *version;
  absl::StatusOr<uint64_t> tensor_count = in.Read<uint64_t>("the tensor count");
  if (!tensor_count.ok()) return tensor_count.status();
  absl::StatusOr<uint64_t> kv_count = in.Read<uint64_t>("the metadata count");
  if (!kv_count.ok()) return kv_count.status();
  // A key/value pair takes at least 8 + 4 + 1 bytes, a tensor's entry 8 + 4 + 8 + 4 + 8.
  if (*kv_count > in.left() / 13) return in.Corrupt(absl::StrCat(*kv_count, " metadata entries cannot fit"));
  if (*tensor_count > in.left() / 32) return in.Corrupt(absl::StrCat(*tensor_count, " tensors cannot fit"));

  for (uint64_t i = 0; i < *kv_count; ++i) {
    absl::StatusOr<std::string> key = in.ReadString("a metadata key");
    if (!key.ok()) return key.status();
    GgufValue value;
    absl::Status status = ReadValue(in, *key, &value);
    if (!status.ok()) return status;
    if (!file->metadata_.emplace(*key, std::move(value)).second) return in.Corrupt(absl::StrCat("key ", *key, " twice"));
  }
  uint64_t alignment = kDefaultAlignment;
  if (const GgufValue* a = file->Find("general.alignment"); a != nullptr) {
    if (a->kind != GgufValue::Kind::kInteger || a->integer < 1 || a->integer > (1 << 16) ||
        (a->integer & (a->integer - 1)) != 0) {
      return in.Corrupt("general.alignment is not a power of two up to 65536");
    }
    alignment = static_cast<uint64_t>(a->integer);
  }

  struct Entry {
    GgufTensor tensor;
    uint64_t offset;
  };
  std::vector<Entry> entries;
  for (uint64_t i = 0; i < *tensor_count; ++i) {
    Entry e;
    absl::StatusOr<std::string> name = in.ReadString("a tensor name");
    if (!name.ok()) return name.status();
    e.tensor.name = std::move(*name);
    absl::StatusOr<uint32_t> n_dims = in.Read<uint32_t>(e.tensor.name);
    if (!n_dims.ok()) return n_dims.status();
    if (*n_dims == 0 || *n_dims > kMaxDims) {
      return in.Corrupt(absl::StrCat("tensor ", e.tensor.name, ": ", *n_dims, " dimensions (1 to 4)"));
    }
    uint64_t elements = 1;
    for (uint32_t d = 0; d < *n_dims; ++d) {
      absl::StatusOr<uint64_t> dim = in.Read<uint64_t>(e.tensor.name);
      if (!dim.ok()) return dim.status();
      if (*dim == 0 || *dim > (uint64_t{1} << 40) || elements > (uint64_t{1} << 50) / *dim) {
        return in.Corrupt(absl::StrCat("tensor ", e.tensor.name, ": dimension ", d, " of ", *dim));
      }
      elements *= *dim;
      e.tensor.dims.push_back(*dim);
    }
    absl::StatusOr<uint32_t> type = in.Read<uint32_t>(e.tensor.name);
    if (!type.ok()) return type.status();
    absl::StatusOr<uint64_t> offset = in.Read<uint64_t>(e.tensor.name);
    if (!offset.ok()) return offset.status();
    const TypeLayout* layout = LayoutOf(*type);
    if (layout == nullptr) {
      return absl::UnimplementedError(absl::StrCat("GGUF file ", path, ": tensor ", e.tensor.name, " has ggml type ",
                                                   *type, ", which this reader does not know"));
    }
    if (e.tensor.dims[0] % layout->block != 0) {
      return in.Corrupt(absl::StrCat("tensor ", e.tensor.name, ": rows of ", e.tensor.dims[0], " are not whole ",
                                     layout->name, " blocks of ", layout->block));
    }
    e.tensor.type = *type;
    e.tensor.size_bytes = elements / layout->block * layout->block_bytes;
    e.offset = *offset;
    if (e.offset % alignment != 0) {
      return in.Corrupt(absl::StrCat("tensor ", e.tensor.name, ": offset ", e.offset, " is not aligned to ", alignment));
    }
    entries.push_back(std::move(e));
  }
  const uint64_t data_start = (in.offset() + alignment - 1) / alignment * alignment;
  // Tensors follow one another in directory order, each padded to the alignment (as llama.cpp
  // writes and requires them): no two share bytes, so what the loader builds from them is
  // bounded by the file's size.
  uint64_t expected = 0;
  for (Entry& e : entries) {
    if (e.offset != expected) {
      return absl::DataLossError(absl::StrCat("GGUF file ", path, ": tensor ", e.tensor.name, " is at offset ", e.offset,
                                              ", not ", expected, " (tensors follow one another, aligned)"));
    }
    expected += (e.tensor.size_bytes + alignment - 1) / alignment * alignment;
    if (data_start > file_size || e.offset > file_size - data_start || e.tensor.size_bytes > file_size - data_start - e.offset) {
      return absl::DataLossError(absl::StrCat("GGUF file ", path, ": tensor ", e.tensor.name, " (", e.tensor.size_bytes,
                                              " bytes at ", e.offset, ") runs past the end of the file (", file_size,
                                              " bytes); the file is truncated"));
    }
    e.tensor.data = bytes + data_start + e.offset;
    const std::string name = e.tensor.name;
    if (!file->tensors_.emplace(name, std::move(e.tensor)).second) {
      return absl::DataLossError(absl::StrCat("GGUF file ", path, ": tensor ", name, " twice"));
    }
  }
  return file;
}

GgufFile::~GgufFile() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
}

const GgufValue* GgufFile::Find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::FindTensor(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

absl::StatusOr<int64_t> GgufFile::GetInteger(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return absl::NotFoundError(absl::StrCat("GGUF file ", path_, ": no ", key));
  if (v->kind != GgufValue::Kind::kInteger) {
    return absl::InvalidArgumentError(absl::StrCat("GGUF file ", path_, ": ", key, " is not an integer"));
  }
  return v->integer;
}

absl::StatusOr<double> GgufFile::GetNumber(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return absl::NotFoundError(absl::StrCat("GGUF file ", path_, ": no ", key));
  if (v->kind != GgufValue::Kind::kInteger && v->kind != GgufValue::Kind::kNumber) {
    return absl::InvalidArgumentError(absl::StrCat("GGUF file ", path_, ": ", key, " is not a number"));
  }
  return v->number;
}

absl::StatusOr<std::string> GgufFile::GetString(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return absl::NotFoundError(absl::StrCat("GGUF file ", path_, ": no ", key));
  if (v->kind != GgufValue::Kind::kString) {
    return absl::InvalidArgumentError(absl::StrCat("GGUF file ", path_, ": ", key, " is not a string"));
  }
  return v->string;
}

}  // namespace engine
