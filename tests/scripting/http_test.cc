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
  absl::Status Run(const std::string& code, std::vector<std::string>* printed = nullptr,
                   std::vector<std::string> allowed = {}) {
    SandboxOptions options;
    options.http.allowed_hosts = allowed.empty() ? std::vector<std::string>{"127.0.0.1:" + std::to_string(server_.port())} : allowed;
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

TEST_F(HttpModuleTest, InternalAddressesPortsAndCredentialsAcrossRedirects) {
  const std::string port = std::to_string(server_.port());
  auto refused = [&](const std::vector<std::string>& allowed, const std::string& url, const std::string& message) {
    absl::Status status = Run("http.get('" + url + "')", nullptr, allowed);
    EXPECT_FALSE(status.ok()) << url;
    EXPECT_THAT(std::string(status.message()), HasSubstr(message)) << url;
  };
  // A name that resolves to a loopback address is refused at connect time, even allowlisted
  // with its port: only an entry naming the address itself reaches it.
  refused({"localhost:" + port}, "http://localhost:" + port + "/hello", "is internal (loopback, private");
  // An allowlisted host without a port allows the scheme's default port only.
  refused({"127.0.0.1"}, Url("/hello"), "port " + port + " is not in the http allowlist");
  refused({"127.0.0.1:1"}, Url("/hello"), "is not in the http allowlist");
  std::vector<std::string> printed;
  ASSERT_TRUE(Run("print(http.get('" + Url("/hello") + "').body)", &printed, {"127.0.0.1:*"}).ok());
  EXPECT_THAT(printed, ::testing::ElementsAre("hello"));
  // The URL a response names has no user:password (it goes back to the plan and its journal).
  printed.clear();
  ASSERT_TRUE(Run("print(http.get('http://user:secret@127.0.0.1:" + port + "/hello').url)", &printed, {"127.0.0.1:*"}).ok());
  EXPECT_THAT(printed, ::testing::ElementsAre(Url("/hello")));

  // Authorization goes along a redirect on the same origin, not to another one.
  printed.clear();
  const std::vector<std::string> both = {"127.0.0.1:" + port, "localhost:" + port};
  absl::Status status = Run("local h = {headers = {Authorization = 'Bearer secret'}}\n"
                            "print(http.get('" + Url("/redirect-local-headers") + "', h).body)\n"
                            "print(http.get('" + Url("/redirect-away-headers") + "', h).body)\n",
                            &printed, both);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_THAT(printed, ::testing::ElementsAre("Bearer secret", "none"));
}

TEST(HttpPolicyTest, AllowlistWildcardsPortsIpv6AndCase) {
  HttpPolicy policy;
  policy.allowed_hosts = {"*.example.com", "docs.python.org", "[::1]:8080", "203.0.113.7:*", "Upper.Example.org"};
  // A wildcard covers subdomains, not the bare domain nor look-alikes.
  EXPECT_TRUE(HostAllowedOnPort("a.example.com", 443, "https", policy));
  EXPECT_TRUE(HostAllowedOnPort("deep.a.example.com", 80, "http", policy));
  EXPECT_FALSE(HostAllowed("example.com", policy));
  EXPECT_FALSE(HostAllowed("badexample.com", policy));
  EXPECT_FALSE(HostAllowed("a.example.com.evil.net", policy));
  // Without a port only the scheme's default one.
  EXPECT_TRUE(HostAllowedOnPort("docs.python.org", 443, "https", policy));
  EXPECT_FALSE(HostAllowedOnPort("docs.python.org", 8443, "https", policy));
  EXPECT_FALSE(HostAllowedOnPort("docs.python.org", 443, "http", policy));
  // IPv6 literals with their port; "*" for any port.
  EXPECT_TRUE(HostAllowedOnPort("::1", 8080, "http", policy));
  EXPECT_FALSE(HostAllowedOnPort("::1", 8081, "http", policy));
  EXPECT_TRUE(HostAllowedOnPort("203.0.113.7", 1234, "http", policy));
  // Host names compare without case.
  EXPECT_TRUE(HostAllowedOnPort("upper.example.org", 443, "https", policy));
  EXPECT_FALSE(HostAllowed("", policy));
  EXPECT_FALSE(HostAllowed("anything", HttpPolicy()));
}

TEST_F(HttpModuleTest, UserinfoAndRedirectLoopsCannotGetAround) {
  const std::string port = std::to_string(server_.port());
  // "allowed@host": the part before '@' is userinfo, the host is what follows.
  absl::Status userinfo = Run("http.get('http://127.0.0.1:" + port + "@localhost:" + port + "/hello')", nullptr,
                              {"127.0.0.1:" + port});
  EXPECT_FALSE(userinfo.ok());
  EXPECT_THAT(std::string(userinfo.message()), HasSubstr("localhost"));
  // Redirects end at the policy's limit.
  absl::Status loop = Run("http.get('" + Url("/redirect-loop") + "')");
  EXPECT_FALSE(loop.ok());
  EXPECT_THAT(std::string(loop.message()), ::testing::ContainsRegex("redirect"));
  std::printf("  userinfo → %s\n  loop → %s\n", std::string(userinfo.message()).c_str(), std::string(loop.message()).c_str());
}

}  // namespace
}  // namespace scripting
