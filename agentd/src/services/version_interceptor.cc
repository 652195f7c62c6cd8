#include "version_interceptor.h"

namespace agentd::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

class VersionInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit VersionInterceptor(const std::string* version) : version_(version) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({kVersionMetadataKey, *version_});
    }
    methods->Proceed();
  }

 private:
  const std::string* version_;  // owned by the factory, which outlives the server's calls
};

class VersionInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit VersionInterceptorFactory(std::string version) : version_(std::move(version)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo*) override {
    return new VersionInterceptor(&version_);
  }

 private:
  const std::string version_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeVersionInterceptorFactory(std::string version) {
  return std::make_unique<VersionInterceptorFactory>(std::move(version));
}

}  // namespace agentd::services
