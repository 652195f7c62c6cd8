#include "agentd/listen_address.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace agentd {

std::string ListenAddress::ToGrpcTarget() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", text, "\": ", why,
                     " (expected HOST:PORT, e.g. 127.0.0.1:7700 or [::1]:7700)"));
  };
  if (text.empty()) return invalid("empty");
  absl::string_view host, port_text;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == absl::string_view::npos) return invalid("missing ']' after IPv6 address");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return invalid("missing :PORT");
    port_text = text.substr(close + 2);
    in6_addr addr6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &addr6) != 1) {
      return invalid("not an IPv6 address");
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) return invalid("missing :PORT");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) return invalid("IPv6 addresses need brackets");
    in_addr addr4;
    if (host != "localhost" && inet_pton(AF_INET, std::string(host).c_str(), &addr4) != 1) {
      return invalid("host must be an IPv4 address, [IPv6] address or localhost");
    }
  }
  uint32_t port = 0;
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return invalid("port must be a number from 0 to 65535");
  }
  ListenAddress address;
  address.host = std::string(host);
  address.port = static_cast<uint16_t>(port);
  return address;
}

}  // namespace agentd
