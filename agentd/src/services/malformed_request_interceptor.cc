#include "malformed_request_interceptor.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/str_cat.h"
#include "log.h"

namespace agentd::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

class MalformedRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(std::string method) : method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED && status.error_message().empty()) {
        const std::string type = RequestTypeOfMethod(method_);
        if (!type.empty()) {
          const std::string message =
              absl::StrCat("request: the message does not parse as ", type, " (malformed protobuf bytes)");
          log::Warn("request refused", {{"method", method_}, {"code", "INVALID_ARGUMENT"}, {"error", message}});
          methods->ModifySendStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message));
        }
      }
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
};

class MalformedRequestInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    return new MalformedRequestInterceptor(method != nullptr ? method : "");
  }
};

}  // namespace

std::string RequestTypeOfMethod(const std::string& method_path) {
  // "/package.Service/Method"
  if (method_path.size() < 4 || method_path[0] != '/') return "";
  const size_t slash = method_path.find('/', 1);
  if (slash == std::string::npos) return "";
  const std::string service = method_path.substr(1, slash - 1);
  const std::string method = method_path.substr(slash + 1);
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  if (descriptor == nullptr) return "";
  const google::protobuf::MethodDescriptor* found = descriptor->FindMethodByName(method);
  return found == nullptr ? "" : found->input_type()->full_name();
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> MakeMalformedRequestInterceptors() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<MalformedRequestInterceptorFactory>());
  return out;
}

}  // namespace agentd::services
