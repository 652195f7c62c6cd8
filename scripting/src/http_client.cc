#include "scripting/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace scripting {
namespace {

void InitializeCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct UrlParts {
  std::string scheme, host;
  int port = 0;  // the URL's, or the scheme's default
};

absl::StatusOr<UrlParts> ParseUrl(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("url \"", url, "\" is not a valid absolute URL"));
  }
  char* scheme = nullptr;
  char* host = nullptr;
  char* port = nullptr;
  curl_url_get(handle.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(handle.get(), CURLUPART_HOST, &host, 0);
  curl_url_get(handle.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
  UrlParts parts{scheme ? Lower(scheme) : "", host ? Lower(host) : "", port ? std::atoi(port) : 0};
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  if (parts.host.size() > 2 && parts.host.front() == '[') parts.host = parts.host.substr(1, parts.host.size() - 2);
  return parts;
}

// The absolute URL a Location header points to, relative to `base`.
std::string Resolve(const std::string& base, const std::string& location) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  curl_url_set(handle.get(), CURLUPART_URL, base.c_str(), 0);
  if (curl_url_set(handle.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) return "";
  char* out = nullptr;
  curl_url_get(handle.get(), CURLUPART_URL, &out, 0);
  std::string resolved = out ? out : "";
  curl_free(out);
  return resolved;
}

// The URL without the user:password@ its authority may carry (it goes back to a plan, a tool's
// result and the run's journal); the URL as it was when it has none.
std::string WithoutCredentials(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return url;
  char* user = nullptr;
  const bool has_user = curl_url_get(handle.get(), CURLUPART_USER, &user, 0) == CURLUE_OK;
  curl_free(user);
  if (!has_user) return url;
  curl_url_set(handle.get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(handle.get(), CURLUPART_PASSWORD, nullptr, 0);
  char* out = nullptr;
  curl_url_get(handle.get(), CURLUPART_URL, &out, 0);
  std::string stripped = out ? out : "";
  curl_free(out);
  return stripped;
}

struct Transfer {
  std::string body;
  std::map<std::string, std::string> headers;
  size_t limit;
  bool too_large = false;
  const std::atomic<bool>* interrupt = nullptr;
};

// curl calls this about once a second even while nothing arrives: a non-zero answer aborts.
int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* t = static_cast<const Transfer*>(user);
  return t->interrupt != nullptr && t->interrupt->load() ? 1 : 0;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->body.size() + n > t->limit) {
    t->too_large = true;
    return 0;  // aborts the transfer
  }
  t->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    t->headers[Lower(line.substr(0, colon))] = value;
  } else if (line.rfind("HTTP/", 0) == 0) {
    t->headers.clear();  // a new response (after a 100 Continue)
  }
  return size * count;
}

// An allowlist entry: "host", "host:port", "host:*", "*.example.com[:port]", "[v6]:port" or a
// bare IPv6 literal. Without a port only the scheme's default port (80, 443) is allowed.
struct AllowEntry {
  std::string host;          // lower-case, without brackets
  bool subdomains = false;   // "*.example.com": host holds ".example.com"
  std::optional<int> port;   // nullopt: the scheme's default; -1: any
};

AllowEntry ParseEntry(const std::string& raw) {
  AllowEntry entry;
  std::string text = Lower(raw);
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    entry.host = text.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < text.size() && text[close + 1] == ':') port = text.substr(close + 2);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    entry.host = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
  } else {
    entry.host = text;  // a name, an IPv4 literal or a bare IPv6 literal
  }
  if (entry.host.rfind("*.", 0) == 0) {
    entry.subdomains = true;
    entry.host = entry.host.substr(1);
  }
  if (port == "*") {
    entry.port = -1;
  } else if (!port.empty()) {
    entry.port = std::atoi(port.c_str());
  }
  return entry;
}

bool PortMatches(const AllowEntry& entry, int port, const std::string& scheme) {
  if (!entry.port) return port == (scheme == "https" ? 443 : 80);
  return *entry.port == -1 || *entry.port == port;
}

bool HostMatches(const AllowEntry& entry, const std::string& host) {
  if (!entry.subdomains) return entry.host == host;
  return host.size() > entry.host.size() && host.compare(host.size() - entry.host.size(), entry.host.size(), entry.host) == 0;
}

// The address as text and whether it is internal: loopback, private, link-local, carrier-grade
// NAT, multicast, unspecified or broadcast (and IPv6's equivalents, IPv4-mapped ones included).
struct Address {
  std::string text;
  int port = 0;
  bool internal = false;
};

Address Describe(const struct sockaddr* address) {
  Address out;
  char buffer[INET6_ADDRSTRLEN] = {0};
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const struct sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, buffer, sizeof(buffer));
    out.port = ntohs(v4->sin_port);
    const uint32_t a = ntohl(v4->sin_addr.s_addr);
    auto in = [&](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
    // 0/8, 10/8, 127/8, 169.254/16, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), 224/4,
    // 240/4, and 192.0.0/24 (IETF protocol assignments) and 198.18/15 (benchmarking), which
    // some networks route internally.
    out.internal = in(0x00000000, 8) || in(0x0a000000, 8) || in(0x7f000000, 8) || in(0xa9fe0000, 16) ||
                   in(0xac100000, 12) || in(0xc0a80000, 16) || in(0x64400000, 10) || in(0xe0000000, 4) ||
                   in(0xf0000000, 4) || in(0xc0000000, 24) || in(0xc6120000, 15);
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const struct sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, buffer, sizeof(buffer));
    out.port = ntohs(v6->sin6_port);
    const uint8_t* b = v6->sin6_addr.s6_addr;
    // IPv6 forms that carry an IPv4 address, which decides: mapped (::ffff:a.b.c.d), compatible
    // (::a.b.c.d, deprecated), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t kCompatible[12] = {0};
    static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    const uint8_t* embedded = nullptr;
    if (std::memcmp(b, kMapped, 12) == 0 || std::memcmp(b, kNat64, 12) == 0) embedded = b + 12;
    if (std::memcmp(b, kCompatible, 12) == 0) embedded = b + 12;  // :: and ::1 as 0.0.0.0 and 0.0.0.1: internal
    if (b[0] == 0x20 && b[1] == 0x02) embedded = b + 2;
    if (embedded != nullptr) {
      struct sockaddr_in v4 = {};
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr, embedded, 4);
      out.internal = Describe(reinterpret_cast<const struct sockaddr*>(&v4)).internal;
    } else {
      static const uint8_t kZero[16] = {0};
      const bool loopback = std::memcmp(b, kZero, 15) == 0 && b[15] == 1;
      const bool unspecified = std::memcmp(b, kZero, 16) == 0;
      out.internal = loopback || unspecified || (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
                     b[0] == 0xff;
    }
  } else {
    out.internal = true;  // not an internet address at all
    std::strcpy(buffer, "a non-IP address");
  }
  out.text = buffer;
  return out;
}

// What curl's open-socket callback checks: the address a request actually connects to, after
// name resolution (so neither a name that resolves inward nor DNS rebinding gets through).
struct ConnectCheck {
  const std::vector<AllowEntry>* entries = nullptr;
  std::string scheme;
  std::string refused;  // why the connection was refused, when it was
};

curl_socket_t OpenSocket(void* user, curlsocktype /*purpose*/, struct curl_sockaddr* address) {
  auto* check = static_cast<ConnectCheck*>(user);
  const Address a = Describe(&address->addr);
  if (a.internal) {
    bool named = false;
    for (const AllowEntry& entry : *check->entries) {
      named = named || (!entry.subdomains && entry.host == a.text && PortMatches(entry, a.port, check->scheme));
    }
    if (!named) {
      const std::string named_as = a.text.find(':') != std::string::npos ? absl::StrCat("[", a.text, "]") : a.text;
      check->refused = absl::StrCat("the address ", a.text, " is internal (loopback, private, link-local or multicast) ",
                                    "and only reachable when the allowlist names it with its port (\"", named_as, ":",
                                    a.port, "\")");
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype, address->protocol);
}

}  // namespace

bool HostAllowed(const std::string& raw_host, const HttpPolicy& policy) {
  return HostAllowedOnPort(raw_host, -1, "https", policy);
}

bool HostAllowedOnPort(const std::string& raw_host, int port, const std::string& scheme, const HttpPolicy& policy) {
  const std::string host = Lower(raw_host);
  for (const std::string& allowed_raw : policy.allowed_hosts) {
    const AllowEntry entry = ParseEntry(allowed_raw);
    if (HostMatches(entry, host) && (port < 0 || PortMatches(entry, port, scheme))) return true;
  }
  return false;
}

absl::StatusOr<HttpResponse> HttpFetch(const HttpRequest& request, const HttpPolicy& policy) {
  InitializeCurlOnce();
  if (request.method != "GET" && request.method != "POST") {
    return absl::InvalidArgumentError(absl::StrCat("method \"", request.method, "\": only GET and POST"));
  }
  const double timeout = request.timeout_seconds > 0 ? std::min(request.timeout_seconds, policy.timeout_seconds) : policy.timeout_seconds;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(timeout * 1e6));
  std::string url = request.url;
  std::string method = request.method;
  std::map<std::string, std::string> headers = request.headers;
  std::vector<AllowEntry> entries;
  for (const std::string& raw : policy.allowed_hosts) entries.push_back(ParseEntry(raw));
  std::string origin;  // scheme://host:port of the first request
  for (int hop = 0;; ++hop) {
    absl::StatusOr<UrlParts> parts = ParseUrl(url);
    if (!parts.ok()) return parts.status();
    if (parts->scheme != "http" && parts->scheme != "https") {
      return absl::PermissionDeniedError(absl::StrCat("url \"", url, "\": scheme \"", parts->scheme, "\" is not allowed (http, https)"));
    }
    if (!HostAllowed(parts->host, policy)) {
      return absl::PermissionDeniedError(absl::StrCat(hop == 0 ? "" : "redirect to ", "host \"", parts->host,
                                                      "\" is not in the http allowlist"));
    }
    if (!HostAllowedOnPort(parts->host, parts->port, parts->scheme, policy)) {
      return absl::PermissionDeniedError(absl::StrCat(hop == 0 ? "" : "redirect to ", "host \"", parts->host, "\" port ",
                                                      parts->port, " is not in the http allowlist (name the port: \"",
                                                      parts->host, ":", parts->port, "\")"));
    }
    const std::string here = absl::StrCat(parts->scheme, "://", parts->host, ":", parts->port);
    if (hop == 0) {
      origin = here;
    } else if (here != origin) {
      // Credentials meant for one origin are not handed to another one a redirect names.
      for (auto it = headers.begin(); it != headers.end();) {
        const std::string name = Lower(it->first);
        it = name == "authorization" || name == "cookie" || name == "proxy-authorization" ? headers.erase(it) : std::next(it);
      }
    }
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (remaining <= 0) return absl::DeadlineExceededError(absl::StrCat("http: ", timeout, " s time limit exceeded"));

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    Transfer transfer;
    transfer.limit = policy.max_response_bytes;
    transfer.interrupt = request.interrupt;
    struct curl_slist* header_list = nullptr;
    for (const auto& [name, value] : headers) header_list = curl_slist_append(header_list, absl::StrCat(name, ": ", value).c_str());
    ConnectCheck check{&entries, parts->scheme, ""};
    curl_easy_setopt(curl.get(), CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
    curl_easy_setopt(curl.get(), CURLOPT_OPENSOCKETDATA, &check);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");  // a proxy from the environment would bypass the check
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);  // redirects are followed here, host by host
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(remaining));
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &transfer);
    if (request.interrupt != nullptr) {
      curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, OnProgress);
      curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &transfer);
    }
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "agentd/0.1");
    curl_easy_setopt(curl.get(), CURLOPT_ACCEPT_ENCODING, "");
    if (header_list != nullptr) curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, header_list);
    if (method == "POST") {
      curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    const CURLcode code = curl_easy_perform(curl.get());
    curl_slist_free_all(header_list);
    if (transfer.too_large) {
      return absl::ResourceExhaustedError(absl::StrCat("http: response from ", parts->host, " exceeds ", policy.max_response_bytes, " bytes"));
    }
    // A refused address fails the request only when no other address of the host was allowed
    // (curl tries each address a name resolves to).
    if (code != CURLE_OK && !check.refused.empty()) {
      return absl::PermissionDeniedError(absl::StrCat("http: host \"", parts->host, "\": ", check.refused));
    }
    // The host, not the URL: a URL may carry credentials or a key in its query (an operator's
    // search_url), and these messages reach the tenant's transcript.
    if (code == CURLE_ABORTED_BY_CALLBACK) return absl::CancelledError(absl::StrCat("http: ", parts->host, ": interrupted"));
    if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(absl::StrCat("http: ", timeout, " s time limit exceeded"));
    if (code != CURLE_OK) return absl::UnavailableError(absl::StrCat("http: ", parts->host, ": ", curl_easy_strerror(code)));
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 && status < 400 && transfer.headers.count("location")) {
      if (hop >= policy.max_redirects) return absl::ResourceExhaustedError(absl::StrCat("http: more than ", policy.max_redirects, " redirects"));
      const std::string next = Resolve(url, transfer.headers["location"]);
      if (next.empty()) return absl::UnavailableError("http: a redirect points to an invalid URL");
      url = next;
      if (status == 301 || status == 302 || status == 303) method = "GET";
      continue;
    }
    HttpResponse response;
    response.status = status;
    response.body = std::move(transfer.body);
    response.headers = std::move(transfer.headers);
    response.final_url = WithoutCredentials(url);
    return response;
  }
}

}  // namespace scripting
