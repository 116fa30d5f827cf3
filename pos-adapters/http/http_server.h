// A small HTTP/1.1 server for the till's local service (docs/http-service.md): keep-alive,
// several connections at once, and every limit enforced with a Contract v1 error. Beast
// and Asio stay behind this header: they are heavy to compile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json/error_json.h"  // the Contract v1 error JSON, for routes and the server
#include "result.h"

namespace regulars::http {

struct Limits {
  int64_t max_body_bytes = 1 << 20;     // a larger body: 413
  int64_t max_header_bytes = 16 << 10;  // larger headers: 431
  int request_timeout_ms = 10'000;      // a request not whole by then: 408
  int idle_timeout_ms = 60'000;         // a quiet keep-alive connection is closed
  int max_connections = 64;             // one more is answered 503 and closed
  int threads = 2;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query
  std::string query;   // after '?', or ""
  std::string authorization;
  std::string body;
};

// A server-sent event stream open to one client.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Queues `text` (whole SSE messages) for the client; false once it has gone.
  virtual bool Send(std::string text) = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the answer is an event stream: the header goes out, then this is called
  // once with the stream (hold it weakly: it lives while the client is connected).
  std::function<void(std::shared_ptr<EventSink>)> on_stream;

  static Response Of(int status, std::string content_type, std::string body) {
    Response r;
    r.status = status;
    r.content_type = std::move(content_type);
    r.body = std::move(body);
    return r;
  }
};

// Called on a connection's thread, one request at a time per connection.
using Handler = std::function<Response(const Request&)>;

// What the server did on its own, for the metrics: a refusal ("too_many_connections",
// "payload_too_large", ...) and the number of open connections.
struct Observer {
  std::function<void(std::string_view reason)> refused;
  std::function<void(int open)> connections;
};

class Server {
 public:
  // Listens on `address`:`port` (0: any free port) and serves on `limits.threads` threads.
  static Result<std::unique_ptr<Server>> Start(const std::string& address, uint16_t port,
                                               const Limits& limits, Handler handler,
                                               Observer observer = {});
  virtual ~Server() = default;
  virtual uint16_t port() const = 0;
  // Runs `work` on the network threads' executor, then on the handlers' pool, as a
  // request would be (the service manager's watchdog pings go this way).
  virtual void Post(std::function<void()> work) = 0;
  // Stops accepting, ends every connection and joins the threads.
  virtual void Stop() = 0;
};

}  // namespace regulars::http
