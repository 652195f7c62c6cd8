#include "agentd/listen_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentd {
namespace {

using ::testing::HasSubstr;

TEST(ListenAddressTest, AcceptsIpLiteralsAndLocalhost) {
  auto v4 = ParseListenAddress("127.0.0.1:7700");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7700);
  EXPECT_EQ(v4->ToGrpcTarget(), "127.0.0.1:7700");

  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_EQ(v6->ToGrpcTarget(), "[::1]:0");

  EXPECT_TRUE(ParseListenAddress("localhost:65535").ok());
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:80").ok());
}

TEST(ListenAddressTest, RejectsWithAReason) {
  EXPECT_THAT(ParseListenAddress("").status().message(), HasSubstr("empty"));
  EXPECT_THAT(ParseListenAddress("127.0.0.1").status().message(), HasSubstr("missing :PORT"));
  EXPECT_THAT(ParseListenAddress("127.0.0.1:65536").status().message(), HasSubstr("port"));
  EXPECT_THAT(ParseListenAddress("127.0.0.1:-1").status().message(), HasSubstr("port"));
  EXPECT_THAT(ParseListenAddress("127.0.0.1:http").status().message(), HasSubstr("port"));
  EXPECT_THAT(ParseListenAddress("999.0.0.1:80").status().message(), HasSubstr("host"));
  EXPECT_THAT(ParseListenAddress("example.com:80").status().message(), HasSubstr("host"));
  EXPECT_THAT(ParseListenAddress("::1:80").status().message(), HasSubstr("brackets"));
  EXPECT_THAT(ParseListenAddress("[::1:80").status().message(), HasSubstr("']'"));
  EXPECT_THAT(ParseListenAddress("[zz]:80").status().message(), HasSubstr("IPv6"));
}

}  // namespace
}  // namespace agentd
