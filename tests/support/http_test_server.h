// A minimal HTTP/1.1 server on 127.0.0.1 for tests of outbound HTTP. Routes:
//   GET  /hello          200 "hello"
//   GET  /big            200 with 2 MiB of 'x'
//   GET  /slow           waits 3 s, then 200 "late"
//   GET  /redirect-local 302 to /hello (same host)
//   GET  /redirect-away  302 to http://localhost:PORT/hello (another host name)
//   GET  /page           200 text/html page with a title, a script and paragraphs
//   GET  /binary         200 application/octet-stream bytes
//   GET  /searx?...      200 SearxNG-style JSON with two results (for web_search)
//   GET  /searx-odd?...  200 the same shape with results that are not objects and fields that
//                        are not strings, and one good result
//   POST /echo           200 with the request body
// Anything else 404. One thread per connection; stops on destruction.
#ifndef AGENTD_TESTS_SUPPORT_HTTP_TEST_SERVER_H_
#define AGENTD_TESTS_SUPPORT_HTTP_TEST_SERVER_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace testing_support {

class HttpTestServer {
 public:
  HttpTestServer();
  ~HttpTestServer();
  int port() const { return port_; }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  void Serve();
  void Handle(int client);
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

}  // namespace testing_support

#endif  // AGENTD_TESTS_SUPPORT_HTTP_TEST_SERVER_H_
