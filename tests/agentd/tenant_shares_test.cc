#include "tenant_shares.h"

#include <gtest/gtest.h>

namespace agentd {
namespace {

DaemonOptions WithTenants(std::initializer_list<const char*> tenants) {
  DaemonOptions options;
  int n = 0;
  for (const char* tenant : tenants) {
    ApiToken token;
    token.token = "token-" + std::to_string(n++);
    token.tenant = tenant;
    options.api_tokens.push_back(token);
  }
  return options;
}

constexpr uint64_t kGiB = uint64_t{1} << 30, kMiB = uint64_t{1} << 20;

TEST(TenantSharesTest, OneTenantHasEverythingAndSeveralShareAlike) {
  EXPECT_EQ(DocumentShare(WithTenants({}), 16 * kGiB), 0u);
  EXPECT_EQ(DocumentShare(WithTenants({"acme", "acme"}), 16 * kGiB), 0u);  // one tenant, two tokens
  EXPECT_EQ(TenantShare(WithTenants({"acme", "globex"}), 0, 1000), 1000u);
  EXPECT_EQ(TenantShare(WithTenants({"acme", "globex"}), 7, 1000), 7u);  // configured
}

TEST(TenantSharesTest, TheDocumentShareKeepsTheTenantsWithinHalfTheMachinesMemory) {
  // Postings and vectors are held in memory: four tenants on 16 GiB may store 2 GiB each, not
  // the 8 GiB each that together would take twice the machine.
  EXPECT_EQ(DocumentShare(WithTenants({"a", "b", "c", "d"}), 16 * kGiB), 2 * kGiB);
  EXPECT_EQ(DocumentShare(WithTenants({"a", "b"}), 128 * kGiB), 8 * kGiB);  // at most 8 GiB
  EXPECT_EQ(DocumentShare(WithTenants({"a", "b"}), 0), 8 * kGiB);           // memory unknown
  EXPECT_EQ(DocumentShare(WithTenants({"a", "b"}), 64 * kMiB), 64 * kMiB);  // at least 64 MiB
  DaemonOptions configured = WithTenants({"a", "b", "c", "d"});
  configured.memory.max_stored_bytes_per_tenant = 10 * kGiB;
  EXPECT_EQ(DocumentShare(configured, 16 * kGiB), 10 * kGiB);  // a setting is taken as it is
  EXPECT_GT(PhysicalMemoryBytes(), 0u);
}

}  // namespace
}  // namespace agentd
