// Outbound HTTP for scripts and tools (libcurl), under a policy: http and https only, every host
// and port (including each redirect's) must be on the allowlist, the address actually connected
// to must not be internal (loopback, private, link-local, multicast) unless the allowlist names
// that address and port, credentials are not sent across origins on redirects, a time limit and
// a response-size cap.
#ifndef AGENTD_SCRIPTING_HTTP_CLIENT_H_
#define AGENTD_SCRIPTING_HTTP_CLIENT_H_

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace scripting {

struct HttpPolicy {
  // Hosts requests may reach: exact names or IP literals ("docs.python.org", "203.0.113.7"), or
  // "*.example.com" for subdomains, each with an optional port ("127.0.0.1:8888", "[::1]:80",
  // "host:*" for any); without one only the scheme's default port (80, 443). An internal
  // address is reached only when an entry names it (with its port). Empty: no request.
  std::vector<std::string> allowed_hosts;
  // Default and maximum time per request (including redirects), in seconds.
  double timeout_seconds = 10.0;
  // Largest response body accepted; larger responses fail. Default 5 MiB.
  size_t max_response_bytes = 5u << 20;
  int max_redirects = 5;
};

struct HttpRequest {
  std::string method = "GET";  // GET or POST
  std::string url;
  std::map<std::string, std::string> headers;
  std::string body;
  // 0 = the policy's; never more than the policy's.
  double timeout_seconds = 0;
  // When set and it becomes true, the transfer stops within about a second: CANCELLED (a
  // cancelled run's tool call). Borrowed; optional.
  const std::atomic<bool>* interrupt = nullptr;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string final_url;  // after redirects, without any user:password@
};

// PERMISSION_DENIED for a refused scheme or host (naming it), DEADLINE_EXCEEDED on time-out,
// RESOURCE_EXHAUSTED past the size cap, CANCELLED when interrupted, UNAVAILABLE for network
// errors.
absl::StatusOr<HttpResponse> HttpFetch(const HttpRequest& request, const HttpPolicy& policy);

// True when `host` is allowed by the policy on some port; HostAllowedOnPort: on that port for
// that scheme.
bool HostAllowed(const std::string& host, const HttpPolicy& policy);
bool HostAllowedOnPort(const std::string& host, int port, const std::string& scheme, const HttpPolicy& policy);

}  // namespace scripting

#endif  // AGENTD_SCRIPTING_HTTP_CLIENT_H_
