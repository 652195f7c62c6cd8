#include "scripting/http_client.h"

#include <curl/curl.h>

#include <algorithm>
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
};

absl::StatusOr<UrlParts> ParseUrl(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("url \"", url, "\" is not a valid absolute URL"));
  }
  char* scheme = nullptr;
  char* host = nullptr;
  curl_url_get(handle.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(handle.get(), CURLUPART_HOST, &host, 0);
  UrlParts parts{scheme ? Lower(scheme) : "", host ? Lower(host) : ""};
  curl_free(scheme);
  curl_free(host);
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

struct Transfer {
  std::string body;
  std::map<std::string, std::string> headers;
  size_t limit;
  bool too_large = false;
};

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

}  // namespace

bool HostAllowed(const std::string& raw_host, const HttpPolicy& policy) {
  const std::string host = Lower(raw_host);
  for (const std::string& allowed_raw : policy.allowed_hosts) {
    const std::string allowed = Lower(allowed_raw);
    if (allowed == host) return true;
    if (allowed.rfind("*.", 0) == 0) {
      const std::string suffix = allowed.substr(1);  // ".example.com"
      if (host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
    }
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
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (remaining <= 0) return absl::DeadlineExceededError(absl::StrCat("http: ", timeout, " s time limit exceeded"));

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    Transfer transfer;
    transfer.limit = policy.max_response_bytes;
    struct curl_slist* header_list = nullptr;
    for (const auto& [name, value] : request.headers) header_list = curl_slist_append(header_list, absl::StrCat(name, ": ", value).c_str());
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);  // redirects are followed here, host by host
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(remaining));
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &transfer);
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
    if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(absl::StrCat("http: ", timeout, " s time limit exceeded"));
    if (code != CURLE_OK) return absl::UnavailableError(absl::StrCat("http: ", url, ": ", curl_easy_strerror(code)));
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
    response.final_url = url;
    return response;
  }
}

}  // namespace scripting
