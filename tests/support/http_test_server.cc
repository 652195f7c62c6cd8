#include "support/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace testing_support {

HttpTestServer::HttpTestServer() {
  listener_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener_, 16) != 0) {
    throw std::runtime_error("test HTTP server: cannot listen");
  }
  socklen_t length = sizeof address;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

HttpTestServer::~HttpTestServer() {
  stopping_ = true;
  shutdown(listener_, SHUT_RDWR);
  close(listener_);
  thread_.join();
  for (std::thread& w : workers_) w.join();
}

void HttpTestServer::Serve() {
  while (!stopping_) {
    pollfd pfd{listener_, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    int client = accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    workers_.emplace_back([this, client] { Handle(client); });
  }
}

void HttpTestServer::Handle(int client) {
  std::string request;
  char buffer[4096];
  // Read the head, then a body of Content-Length bytes.
  size_t head_end = std::string::npos;
  while ((head_end = request.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) {
      close(client);
      return;
    }
    request.append(buffer, static_cast<size_t>(n));
  }
  size_t content_length = 0;
  if (size_t at = request.find("Content-Length: "); at != std::string::npos) content_length = std::stoul(request.substr(at + 16));
  while (request.size() < head_end + 4 + content_length) {
    ssize_t n = recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    request.append(buffer, static_cast<size_t>(n));
  }
  const std::string line = request.substr(0, request.find("\r\n"));
  const std::string body = request.substr(head_end + 4);
  std::string status = "200 OK", extra, content_type = "text/plain", payload;
  if (line.rfind("GET /hello ", 0) == 0) {
    payload = "hello";
  } else if (line.rfind("GET /big ", 0) == 0) {
    payload.assign(2u << 20, 'x');
  } else if (line.rfind("GET /slow ", 0) == 0) {
    for (int i = 0; i < 30 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    payload = "late";
  } else if (line.rfind("GET /redirect-local ", 0) == 0) {
    status = "302 Found";
    extra = "Location: /hello\r\n";
  } else if (line.rfind("GET /redirect-away ", 0) == 0) {
    status = "302 Found";
    extra = "Location: http://localhost:" + std::to_string(port_) + "/hello\r\n";
  } else if (line.rfind("GET /binary ", 0) == 0) {
    content_type = "application/octet-stream";
    payload = std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10);
  } else if (line.rfind("GET /page ", 0) == 0) {
    content_type = "text/html; charset=utf-8";
    payload = "<html><head><title>DeepSeek &amp; AI</title><style>p{color:red}</style></head><body>"
              "<script>var x = 1;</script><h1>Report</h1><p>First &lt;paragraph&gt;.</p><p>深度求索</p></body></html>";
  } else if (line.rfind("GET /searx?", 0) == 0) {
    content_type = "application/json";
    payload = R"({"results": [{"title": "Agent market note", "url": "http://news.example/agents",
                 "content": "The AI agent market grew 35% in 2024."},
                {"title": "Second note", "url": "http://news.example/second", "content": "Agents cut costs."}]})";
  } else if (line.rfind("GET /searx-odd?", 0) == 0) {
    content_type = "application/json";
    payload = R"({"results": [7, null, "text", [1], {"title": 5, "url": {"a": 1}, "content": ["x"]},
                {"title": "Good", "url": "http://news.example/good", "content": "Kept."}]})";
  } else if (line.rfind("POST /echo ", 0) == 0) {
    payload = body;
  } else if (line.rfind("GET /headers ", 0) == 0) {
    // The request's Authorization header, or "none".
    const size_t at = request.find("\r\nAuthorization: ");
    payload = at == std::string::npos || at > head_end ? "none" : request.substr(at + 17, request.find("\r\n", at + 2) - at - 17);
  } else if (line.rfind("GET /redirect-away-headers ", 0) == 0) {
    status = "302 Found";
    extra = "Location: http://localhost:" + std::to_string(port_) + "/headers\r\n";
  } else if (line.rfind("GET /redirect-local-headers ", 0) == 0) {
    status = "302 Found";
    extra = "Location: /headers\r\n";
  } else if (line.rfind("GET /redirect-loop ", 0) == 0) {
    status = "302 Found";
    extra = "Location: /redirect-loop\r\n";
  } else {
    status = "404 Not Found";
    payload = "not found";
  }
  const std::string response = "HTTP/1.1 " + status + "\r\nContent-Type: " + content_type + "\r\nContent-Length: " +
                               std::to_string(payload.size()) + "\r\nConnection: close\r\n" + extra + "\r\n" + payload;
  size_t sent = 0;
  while (sent < response.size()) {
    ssize_t n = send(client, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  close(client);
}

}  // namespace testing_support
