// The http module against a local server: allowlist, redirects (a redirect to a host off the
// allowlist is refused), time limit, size cap, schemes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scripting/sandbox.h"
#include "support/http_test_server.h"

namespace scripting {
namespace {

using ::testing::HasSubstr;

class HttpModuleTest : public ::testing::Test {
 protected:
  absl::Status Run(const std::string& code, std::vector<std::string>* printed = nullptr) {
    SandboxOptions options;
    options.http.allowed_hosts = {"127.0.0.1"};
    options.http.timeout_seconds = 1.0;
    options.http.max_response_bytes = 1u << 20;
    options.on_print = [printed](const std::string& line) {
      if (printed) printed->push_back(line);
    };
    auto sandbox = Sandbox::Create(options);
    return (*sandbox)->RunString(code, "net.lua");
  }
  std::string Url(const std::string& path) { return server_.Url(path); }
  testing_support::HttpTestServer server_;
};

TEST_F(HttpModuleTest, GetPostAndSameHostRedirects) {
  std::vector<std::string> printed;
  absl::Status status = Run("local r = http.get('" + Url("/hello") + "')\nprint(r.status, r.body, r.headers['content-type'])\n" +
                                "local p = http.post('" + Url("/echo") + "', 'payload', {headers = {['X-Test'] = '1'}})\nprint(p.body)\n" +
                                "local d = http.get('" + Url("/redirect-local") + "')\nprint(d.status, d.body)\n",
                            &printed);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(printed, ::testing::ElementsAre("200\thello\ttext/plain", "payload", "200\thello"));
}

TEST_F(HttpModuleTest, RefusalsAndLimits) {
  auto expect = [&](const std::string& code, const std::string& message) {
    absl::Status status = Run(code);
    EXPECT_FALSE(status.ok()) << code;
    EXPECT_THAT(status.message(), HasSubstr("net.lua:1:")) << code;
    EXPECT_THAT(status.message(), HasSubstr(message)) << code;
  };
  expect("http.get('http://localhost:" + std::to_string(server_.port()) + "/hello')", "host \"localhost\" is not in the http allowlist");
  expect("http.get('" + Url("/redirect-away") + "')", "redirect to host \"localhost\" is not in the http allowlist");
  expect("http.get('file:///etc/passwd')", "scheme \"file\" is not allowed");
  expect("http.get('" + Url("/big") + "')", "exceeds 1048576 bytes");
  expect("http.get('" + Url("/slow") + "')", "time limit exceeded");
  expect("http.get('not a url')", "not a valid absolute URL");
}

}  // namespace
}  // namespace scripting
