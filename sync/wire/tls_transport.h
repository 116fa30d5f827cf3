// HTTPS with mutual TLS between a till and headquarters (docs/sync-protocol.md). Beast
// and Asio stay behind this header: they are heavy to compile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "result.h"

namespace regulars {

// PEM files: the chain CA (the only trust anchor), this side's certificate and key.
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
};

struct HttpAnswer {
  int status = 200;
  std::string body;
};

struct HttpRequest {
  std::string store_id;  // from the client certificate's CN "store:S001", never the body
  std::string method;
  std::string target;
  std::string body;
};

// One request in, one answer out. Called on one of the server's workers, never on a
// network thread, so it may take its time (storing a batch); several run at once.
using HttpHandler = std::function<HttpAnswer(const HttpRequest&)>;

// How a TlsServer shares itself among the stores. The deadlines' defaults are those the
// server always had; past a limit a store gets a clean 503 and retries with backoff.
struct TlsServerOptions {
  int network_threads = 2;  // share one io_context: accept, handshake, read, write
  int workers = 4;          // run the handler
  // Requests waiting for a worker; one more is answered 503 "hq_busy" and closed.
  int max_queued_requests = 64;
  // Open connections; one more is answered 503 "too_many_connections" (after the TLS
  // handshake, so the store can read why) and closed.
  int max_connections = 256;
  int handshake_timeout_ms = 10'000;  // from accept to a finished TLS handshake
  int request_timeout_ms = 60'000;    // a whole request in, and its answer out
  int idle_timeout_ms = 60'000;       // a quiet keep-alive connection is closed
  int shutdown_timeout_ms = 2'000;    // for the TLS close_notify exchange
  // Told one JSON line per refused handshake, `{"handshake_refused": {"peer", "reason"}}`,
  // from a network thread, one at a time.
  std::function<void(const std::string& line)> log;
};

// A mutual-TLS HTTPS server on `address`:`port` (0: any free port), TLS 1.2 at least; a
// client without a certificate of the chain CA is refused at the handshake, and one whose
// certificate names no store gets 403 "unknown_store".
class TlsServer {
 public:
  static Result<std::unique_ptr<TlsServer>> Start(const std::string& address, uint16_t port,
                                                  const TlsFiles& files, HttpHandler handler,
                                                  const TlsServerOptions& options = {});
  virtual ~TlsServer() = default;
  virtual uint16_t port() const = 0;
  // TCP connections accepted so far (each one a TLS handshake), refused ones included:
  // keep-alive shows as 1 per till and night. For the sync benchmark.
  virtual int64_t connections() const = 0;
  // Runs `work` on the network threads, then on the workers' queue, as a request would be
  // (the service manager's watchdog pings go this way; dropped when the queue is full).
  virtual void Post(std::function<void()> work) = 0;
  // Stops accepting, joins the network threads and the workers (a running handler
  // finishes; its answer is not sent) and closes every connection.
  virtual void Stop() = 0;
};

struct TlsTimeouts {
  int connect_ms = 5000;
  int handshake_ms = 5000;
  int request_ms = 30000;
  // When > 0, a hard budget from Connect on: no step waits past it (the online look-up at
  // checkout, 300 ms).
  int total_ms = 0;
};

// A keep-alive HTTPS client to `host`:`port`, verifying the server's name against the CA.
// A transport failure is "sync_unavailable" (try again later); a certificate refused at the
// handshake, HQ's by this side or this side's by HQ, is "tls_certificate_refused", naming
// the certificate and why.
class TlsClient {
 public:
  static Result<std::unique_ptr<TlsClient>> Connect(const std::string& host, uint16_t port,
                                                    const TlsFiles& files,
                                                    TlsTimeouts timeouts = {});
  virtual ~TlsClient() = default;
  virtual Result<HttpAnswer> Post(const std::string& target, const std::string& body) = 0;
  virtual Result<HttpAnswer> Get(const std::string& target) = 0;
};

}  // namespace regulars
