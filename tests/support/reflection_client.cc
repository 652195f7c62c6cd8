#include "support/reflection_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "google/protobuf/unknown_field_set.h"

namespace testing_support {
namespace {

bool Next(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  return cq->Next(&tag, &ok) && ok;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListServicesByReflection(const std::string& address, const std::string& version) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection." + version + ".ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  if (!Next(&cq)) return absl::UnavailableError("reflection call did not start");

  // ServerReflectionRequest{list_services = "*"}: field 7, length-delimited.
  const std::string request("\x3a\x01*", 3);
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  if (!Next(&cq)) return absl::UnavailableError("reflection write failed");
  call->WritesDone(reinterpret_cast<void*>(3));
  if (!Next(&cq)) return absl::UnavailableError("reflection writes-done failed");

  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(4));
  if (!Next(&cq)) return absl::UnavailableError("reflection read failed");
  std::vector<grpc::Slice> slices;
  if (!in.Dump(&slices).ok()) return absl::InternalError("cannot read reflection response");
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());

  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  Next(&cq);
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }

  // ServerReflectionResponse.list_services_response (6) → service (1, repeated) → name (1).
  google::protobuf::UnknownFieldSet response;
  if (!response.ParseFromString(bytes)) return absl::InternalError("bad reflection response");
  std::vector<std::string> names;
  for (int i = 0; i < response.field_count(); ++i) {
    const auto& field = response.field(i);
    if (field.number() != 6 || field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) continue;
    google::protobuf::UnknownFieldSet list;
    if (!list.ParseFromString(field.length_delimited())) continue;
    for (int j = 0; j < list.field_count(); ++j) {
      if (list.field(j).number() != 1) continue;
      google::protobuf::UnknownFieldSet service;
      if (!service.ParseFromString(list.field(j).length_delimited())) continue;
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) names.push_back(service.field(k).length_delimited());
      }
    }
  }
  return names;
}

}  // namespace testing_support
