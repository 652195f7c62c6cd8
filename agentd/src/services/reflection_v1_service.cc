#include "reflection_v1_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>

namespace agentd::services {
namespace {

using grpc::reflection::v1::ServerReflectionRequest;
using grpc::reflection::v1::ServerReflectionResponse;
namespace protobuf = google::protobuf;

// Requests one stream may make; a client that wants more opens another stream.
constexpr int kMaxRequestsPerStream = 100000;

class ReflectionReactor final : public grpc::ServerBidiReactor<ServerReflectionRequest, ServerReflectionResponse> {
 public:
  explicit ReflectionReactor(const std::vector<std::string>* services) : services_(*services) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client is done sending
      Finish(grpc::Status::OK);
      return;
    }
    if (++requests_ > kMaxRequestsPerStream) {
      Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "reflection: too many requests on one stream"));
      return;
    }
    response_.Clear();
    Answer(request_, &response_);
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "reflection: the client went away"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  void Answer(const ServerReflectionRequest& request, ServerReflectionResponse* response) {
    response->set_valid_host(request.host());
    *response->mutable_original_request() = request;
    const protobuf::DescriptorPool* pool = protobuf::DescriptorPool::generated_pool();
    switch (request.message_request_case()) {
      case ServerReflectionRequest::kListServices:
        for (const std::string& name : services_) response->mutable_list_services_response()->add_service()->set_name(name);
        return;
      case ServerReflectionRequest::kFileByFilename:
        return SendFile(pool->FindFileByName(request.file_by_filename()), "file", request.file_by_filename(), response);
      case ServerReflectionRequest::kFileContainingSymbol:
        return SendFile(pool->FindFileContainingSymbol(request.file_containing_symbol()), "symbol",
                        request.file_containing_symbol(), response);
      case ServerReflectionRequest::kFileContainingExtension: {
        const auto& asked = request.file_containing_extension();
        const protobuf::Descriptor* type = pool->FindMessageTypeByName(asked.containing_type());
        const protobuf::FieldDescriptor* extension =
            type == nullptr ? nullptr : pool->FindExtensionByNumber(type, asked.extension_number());
        return SendFile(extension == nullptr ? nullptr : extension->file(), "extension",
                        asked.containing_type() + " " + std::to_string(asked.extension_number()), response);
      }
      case ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const protobuf::Descriptor* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
        if (type == nullptr) {
          return Error(grpc::StatusCode::NOT_FOUND, "type not found: " + request.all_extension_numbers_of_type(), response);
        }
        std::vector<const protobuf::FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* numbers = response->mutable_all_extension_numbers_response();
        numbers->set_base_type_name(type->full_name());
        for (const protobuf::FieldDescriptor* e : extensions) numbers->add_extension_number(e->number());
        return;
      }
      case ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
        return Error(grpc::StatusCode::INVALID_ARGUMENT, "message_request: one of its fields is required", response);
    }
  }

  // The file, then every file it imports (each once). Files sent on earlier requests are sent
  // again: the protocol allows leaving them out, but clients that do not cache would then fail.
  void SendFile(const protobuf::FileDescriptor* file, const std::string& what, const std::string& name,
                ServerReflectionResponse* response) {
    if (file == nullptr) return Error(grpc::StatusCode::NOT_FOUND, what + " not found: " + name, response);
    auto* files = response->mutable_file_descriptor_response();
    std::vector<const protobuf::FileDescriptor*> pending = {file};
    std::set<const protobuf::FileDescriptor*> added;
    while (!pending.empty()) {
      const protobuf::FileDescriptor* f = pending.back();
      pending.pop_back();
      if (!added.insert(f).second) continue;
      protobuf::FileDescriptorProto proto;
      f->CopyTo(&proto);
      files->add_file_descriptor_proto(proto.SerializeAsString());
      for (int i = 0; i < f->dependency_count(); ++i) pending.push_back(f->dependency(i));
    }
  }

  static void Error(grpc::StatusCode code, const std::string& message, ServerReflectionResponse* response) {
    response->mutable_error_response()->set_error_code(static_cast<int32_t>(code));
    response->mutable_error_response()->set_error_message(message);
  }

  const std::vector<std::string>& services_;
  ServerReflectionRequest request_;
  ServerReflectionResponse response_;
  int requests_ = 0;
};

}  // namespace

grpc::ServerBidiReactor<ServerReflectionRequest, ServerReflectionResponse>* ReflectionV1Service::ServerReflectionInfo(
    grpc::CallbackServerContext* context) {
  return new ReflectionReactor(&services_);
}

}  // namespace agentd::services
