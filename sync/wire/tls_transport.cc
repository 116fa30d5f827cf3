#include "wire/tls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "json/error_json.h"

namespace regulars {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

constexpr size_t kMaxBodyBytes = size_t{64} * 1024 * 1024;

// The other side is unreachable or refused us: retry later; nothing was lost.
Error TlsError(const std::string& doing, const beast::error_code& ec) {
  Error e = Error::Storage(doing + ": " + ec.message());
  e.code = "sync_unavailable";
  return e;
}

// A certificate refused at the handshake: the same certificates are refused the same way
// tomorrow, so no retry helps; a person installs the right one.
Error CertificateRefused(std::string message, std::string where) {
  Error e = Error::Storage(std::move(message), std::move(where));
  e.code = "tls_certificate_refused";
  return e;
}

// "CN=store:S001, valid until Jan  1 00:00:00 2027 GMT": who a certificate names and until
// when, for a person to recognize it.
std::string Describe(X509* cert) {
  if (cert == nullptr) return "no certificate";
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio) return "a certificate";
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  BIO_puts(bio.get(), ", valid until ");
  ASN1_TIME_print(bio.get(), X509_get0_notAfter(cert));
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// The alert the other side sent when it refused this side's certificate ("unknown_ca"), or
// "" when the failure is something else (a reset, a timeout).
std::string CertificateAlert(const beast::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return "";
  auto code = static_cast<unsigned long>(ec.value());
  if (ERR_GET_LIB(code) != ERR_LIB_SSL) return "";
  switch (ERR_GET_REASON(code) - SSL_AD_REASON_OFFSET) {
    case SSL_AD_BAD_CERTIFICATE:
      return "bad_certificate";
    case SSL_AD_UNSUPPORTED_CERTIFICATE:
      return "unsupported_certificate";
    case SSL_AD_CERTIFICATE_REVOKED:
      return "certificate_revoked";
    case SSL_AD_CERTIFICATE_EXPIRED:
      return "certificate_expired";
    case SSL_AD_CERTIFICATE_UNKNOWN:
      return "certificate_unknown";
    case SSL_AD_UNKNOWN_CA:
      return "unknown_ca";
    case SSL_AD_CERTIFICATE_REQUIRED:
      return "certificate_required";
    default:
      return "";
  }
}

// TLS 1.2 at least, the chain CA as the only trust anchor, this side's certificate.
Result<std::unique_ptr<ssl::context>> MakeContext(ssl::context::method method,
                                                  const TlsFiles& files) {
  auto ctx = std::make_unique<ssl::context>(method);
  beast::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (!ec) ctx->load_verify_file(files.ca, ec);
  if (ec) return Error::BadInput("invalid_tls_files", "cannot read the CA " + files.ca, files.ca);
  if (files.cert.empty()) return ctx;  // a client without a certificate (to be refused)
  ctx->use_certificate_chain_file(files.cert, ec);
  if (ec) return Error::BadInput("invalid_tls_files", "cannot read " + files.cert, files.cert);
  ctx->use_private_key_file(files.key, ssl::context::pem, ec);
  if (ec) return Error::BadInput("invalid_tls_files", "cannot read " + files.key, files.key);
  return ctx;
}

// "store:S001" in the peer certificate's CN gives "S001"; anything else gives "".
std::string StoreOfPeer(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return "";
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) <= 0) {
    return "";
  }
  std::string name(cn);
  return name.starts_with("store:") ? name.substr(6) : "";
}

// A fixed pool of threads for the handler, with a bounded queue: storing a batch may take
// a while, and must never hold up the network threads that accept and time out the rest.
class WorkerPool {
 public:
  WorkerPool(int workers, int max_queued)
      : max_queued_(static_cast<size_t>(std::max(1, max_queued))) {
    for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { Work(); });
  }
  ~WorkerPool() { Stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool has stopped: the caller answers 503.
  bool TryPost(std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(task));
    wake_.notify_one();
    return true;
  }

  // Running tasks finish; queued ones are dropped (destroyed here, after the join).
  void Stop() {
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      dropped.swap(queue_);
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class Session;

// What every connection of one server shares; each holds it, so it outlives them all.
struct Shared {
  std::unique_ptr<ssl::context> ctx;
  HttpHandler handler;
  TlsServerOptions options;
  WorkerPool* workers = nullptr;  // the server's, stopped before the connections end
  std::mutex log_mutex;           // one refused handshake's line at a time
  std::atomic<int> open{0};       // served connections (refused ones are not counted)
  std::atomic<int64_t> accepted{0};
  std::mutex sessions_mutex;
  std::vector<std::weak_ptr<Session>> sessions;  // for Stop to close them
};

const std::string kUnknownStore =
    ErrorJson("unknown_store", "the client certificate names no store", "");
const std::string kHqBusy =
    ErrorJson("hq_busy", "HQ has too many requests waiting; try again later", "");

std::string TooManyConnections(int max) {
  return ErrorJson("too_many_connections",
                   "HQ has " + std::to_string(max) + " connections open; try again later", "");
}

// One store's connection: handshake, then requests in turn (keep-alive), every step under
// a deadline, on its own strand of the shared io_context. A refused connection goes
// through the same steps and answers its first request with 503.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared, bool refused)
      : peer_(PeerOf(socket)),
        stream_(beast::tcp_stream(std::move(socket)), *shared->ctx),
        shared_(std::move(shared)),
        refused_(refused) {
    if (!refused_) ++shared_->open;
  }
  ~Session() {
    if (!refused_) --shared_->open;
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Handshake(); });
  }

  // Only with no network thread running (Stop): the client sees the end at once.
  void CloseNow() {
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  const TlsServerOptions& Options() const { return shared_->options; }
  static std::chrono::milliseconds Ms(int ms) { return std::chrono::milliseconds(ms); }

  static std::string PeerOf(const tcp::socket& socket) {
    beast::error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    if (ec) return "unknown";
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  void Handshake() {
    Lowest().expires_after(Ms(Options().handshake_timeout_ms));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              // No certificate, another CA, expired, too slow: refused here.
                              if (ec) return self->LogRefusedHandshake(ec);
                              self->store_ = StoreOfPeer(self->stream_.native_handle());
                              self->AwaitRequest();
                            });
  }

  // One JSON line: who knocked and why they were turned away (OpenSSL's verdict on their
  // certificate, else the handshake's error). Certificates are public: nothing secret here.
  void LogRefusedHandshake(const beast::error_code& ec) {
    if (!Options().log) return;
    long verified = SSL_get_verify_result(stream_.native_handle());
    std::string reason = verified == X509_V_OK ? ec.message()
                                               : std::string("client certificate refused: ") +
                                                     X509_verify_cert_error_string(verified);
    std::string line =
        nlohmann::json{{"handshake_refused", {{"peer", peer_}, {"reason", reason}}}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::lock_guard<std::mutex> lock(shared_->log_mutex);
    Options().log(line);
  }

  // The first byte of the next request, under the idle deadline once a request has been
  // served: a quiet keep-alive connection is closed, and costs no thread meanwhile.
  void AwaitRequest() {
    if (buffer_.size() > 0) return ReadRequest();
    Lowest().expires_after(Ms(first_ ? Options().request_timeout_ms : Options().idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return;
                              self->buffer_.commit(n);
                              self->ReadRequest();
                            });
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    Lowest().expires_after(Ms(Options().request_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return;  // malformed, too large, too slow: closed
                       self->OnRequest();
                     });
  }

  void OnRequest() {
    auto request = parser_->release();
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    // The handler has no deadline here: the answer's write has one.
    Lowest().expires_never();
    if (refused_) return Answer({503, TooManyConnections(Options().max_connections)}, false);
    if (store_.empty()) return Answer({403, kUnknownStore}, keep_alive_);
    HttpRequest call{store_, std::string(request.method_string()), std::string(request.target()),
                     std::move(request.body())};
    bool queued = shared_->workers->TryPost([self = shared_from_this(), call = std::move(call)] {
      HttpAnswer answer;
      try {
        answer = self->shared_->handler(call);
      } catch (const std::exception& e) {
        answer = {
            500,
            R"({"error": {"code": "internal", "message": "the request failed", "where": ""}})"};
      }
      asio::post(self->stream_.get_executor(), [self, answer = std::move(answer)]() mutable {
        self->Answer(std::move(answer), self->keep_alive_);
      });
    });
    // Closed as well, so a store that waits to retry holds no connection meanwhile.
    if (!queued) Answer({503, kHqBusy}, false);
  }

  void Answer(HttpAnswer answer, bool keep_alive) {
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(answer.status), version_);
    response->set(http::field::server, "regulars-hq");
    response->set(http::field::content_type, "application/json");
    response->keep_alive(keep_alive);
    response->body() = std::move(answer.body);
    response->prepare_payload();
    Lowest().expires_after(Ms(Options().request_timeout_ms));
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, size_t) {
                        if (ec) return;
                        if (!response->keep_alive()) return self->Shutdown();
                        self->first_ = false;
                        self->AwaitRequest();
                      });
  }

  // The TLS close_notify; a client that leaves without answering it loses nothing, since
  // every answer was sent whole with its length.
  void Shutdown() {
    Lowest().expires_after(Ms(Options().shutdown_timeout_ms));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  const std::string peer_;  // "address:port", for the log
  Stream stream_;
  std::shared_ptr<Shared> shared_;
  const bool refused_;
  std::string store_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool first_ = true;
};

class Server final : public TlsServer {
 public:
  explicit Server(std::shared_ptr<Shared> shared)
      : shared_(std::move(shared)),
        workers_(shared_->options.workers, shared_->options.max_queued_requests),
        acceptor_(ioc_),
        retry_(ioc_) {
    shared_->workers = &workers_;
  }
  ~Server() override { Stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Listen(const std::string& address, uint16_t port) {
    beast::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec) return Error::BadInput("invalid_address", "not an IP address: " + address);
    tcp::endpoint endpoint(ip, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return TlsError("listening on " + address + ":" + std::to_string(port), ec);
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, shared_->options.network_threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return Status::Ok();
  }
  uint16_t port() const override { return port_; }

  void Post(std::function<void()> work) override {
    asio::post(ioc_,
               [this, work = std::move(work)]() mutable { workers_.TryPost(std::move(work)); });
  }
  int64_t connections() const override { return shared_->accepted; }

  void Stop() override {
    if (threads_.empty()) return;
    stopping_ = true;
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    // A running handler finishes; the answer it posts is never sent (the io_context has
    // stopped), and is destroyed with the io_context, as are the connections' pending steps.
    workers_.Stop();
    beast::error_code ignored;
    acceptor_.close(ignored);
    std::lock_guard<std::mutex> lock(shared_->sessions_mutex);
    for (auto& weak : shared_->sessions) {
      if (auto session = weak.lock()) session->CloseNow();
    }
    shared_->sessions.clear();
  }

 private:
  void Accept() {
    acceptor_.async_accept(
        asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || stopping_) return;
          if (!ec) {
            ++shared_->accepted;
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            bool refused = shared_->open.load() >= shared_->options.max_connections;
            auto session = std::make_shared<Session>(std::move(socket), shared_, refused);
            {
              std::lock_guard<std::mutex> lock(shared_->sessions_mutex);
              // Ended connections leave the list here, so a long-running HQ keeps none of them.
              std::erase_if(shared_->sessions,
                            [](const std::weak_ptr<Session>& s) { return s.expired(); });
              shared_->sessions.push_back(session);
            }
            session->Start();
            return Accept();
          }
          // Out of file descriptors, say: try again shortly rather than spin on the error.
          retry_.expires_after(std::chrono::milliseconds(50));
          retry_.async_wait([this](beast::error_code waited) {
            if (!waited && !stopping_) Accept();
          });
        });
  }

  // Declared first, destroyed last: the connections destroyed with the io_context use it.
  std::shared_ptr<Shared> shared_;
  WorkerPool workers_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;  // after a failed accept
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
};

class Client final : public TlsClient {
 public:
  Client(std::unique_ptr<ssl::context> ctx, std::string host, const TlsFiles& files,
         TlsTimeouts timeouts)
      : ctx_(std::move(ctx)),
        host_(std::move(host)),
        cert_file_(files.cert),
        timeouts_(timeouts),
        stream_(ioc_, *ctx_) {
    if (timeouts_.total_ms > 0) {
      deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeouts_.total_ms);
    }
  }

  Status Open(uint16_t port) {
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(host_, std::to_string(port), ec);
    if (ec) return TlsError("resolving " + host_, ec);
    // The server's certificate must name this host (DNS name or IP address); OpenSSL checks
    // it with the chain, so a mismatch has its own verify result.
    SSL* native = stream_.native_handle();
    beast::error_code ip_ec;
    asio::ip::make_address(host_, ip_ec);
    bool named = ip_ec
                     ? SSL_set1_host(native, host_.c_str()) == 1 &&
                           SSL_set_tlsext_host_name(native, host_.c_str()) == 1  // SNI: names only
                     : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), host_.c_str()) == 1;
    if (!named) return Error::BadInput("invalid_address", "not a host name: " + host_, host_);
    stream_.set_verify_mode(ssl::verify_peer);
    // The first certificate of HQ's chain refused, and why, for the error.
    stream_.set_verify_callback([this](bool preverified, ssl::verify_context& context) {
      X509_STORE_CTX* store = context.native_handle();
      if (!preverified && hq_refused_.empty()) {
        hq_refused_ = std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(store))) +
                      " (" + Describe(X509_STORE_CTX_get_current_cert(store)) + ")";
      }
      return preverified;
    });
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_after(Within(timeouts_.connect_ms));
    lowest.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    Drive();
    if (ec) return TlsError("connecting to " + host_, ec);
    lowest.expires_after(Within(timeouts_.handshake_ms));
    stream_.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    Drive();
    if (ec) return Failed("TLS handshake with " + host_, ec);
    return Status::Ok();
  }

  Result<HttpAnswer> Post(const std::string& target, const std::string& body) override {
    return Send(http::verb::post, target, body);
  }
  Result<HttpAnswer> Get(const std::string& target) override {
    return Send(http::verb::get, target, "");
  }

 private:
  Result<HttpAnswer> Send(http::verb verb, const std::string& target, const std::string& body) {
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, host_);
    request.set(http::field::user_agent, "regulars-till");
    if (verb == http::verb::post) request.set(http::field::content_type, "application/json");
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();
    beast::error_code ec;
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_after(Within(timeouts_.request_ms));
    http::async_write(stream_, request, [&](beast::error_code e, size_t) { ec = e; });
    Drive();
    if (ec) return Failed("sending to " + host_, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    // Under TLS 1.3 a refused client certificate shows here, on the first read.
    http::async_read(stream_, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
    Drive();
    if (ec) return Failed("reading the answer of " + host_, ec);
    auto response = parser.release();
    return HttpAnswer{static_cast<int>(response.result_int()), response.body()};
  }

  // A refused certificate, either side's, is permanent; anything else may pass.
  Error Failed(const std::string& doing, const beast::error_code& ec) const {
    if (!hq_refused_.empty()) {
      return CertificateRefused(
          "HQ's certificate at " + host_ + " is refused by this till: " + hq_refused_, host_);
    }
    std::string alert = CertificateAlert(ec);
    if (alert.empty()) return TlsError(doing, ec);
    return CertificateRefused("HQ refused this till's certificate " + cert_file_ + " (" +
                                  Describe(SSL_CTX_get0_certificate(ctx_->native_handle())) +
                                  "): alert " + alert,
                              cert_file_);
  }

  void Drive() {
    ioc_.restart();
    ioc_.run();
  }

  // A step's timeout, cut to what is left of the total budget.
  std::chrono::steady_clock::duration Within(int step_ms) const {
    std::chrono::steady_clock::duration step = std::chrono::milliseconds(step_ms);
    if (!deadline_) return step;
    auto left = *deadline_ - std::chrono::steady_clock::now();
    return std::max<std::chrono::steady_clock::duration>(std::min(step, left),
                                                         std::chrono::milliseconds(1));
  }

  std::unique_ptr<ssl::context> ctx_;
  std::string host_;
  std::string cert_file_;
  TlsTimeouts timeouts_;
  std::string hq_refused_;  // why HQ's certificate failed verification, if it did
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  asio::io_context ioc_;
  Stream stream_;
  beast::flat_buffer buffer_;
};

}  // namespace

Result<std::unique_ptr<TlsServer>> TlsServer::Start(const std::string& address, uint16_t port,
                                                    const TlsFiles& files, HttpHandler handler,
                                                    const TlsServerOptions& options) {
  REGULARS_ASSIGN_OR_RETURN(auto ctx, MakeContext(ssl::context::tls_server, files));
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  auto shared = std::make_shared<Shared>();
  shared->ctx = std::move(ctx);
  shared->handler = std::move(handler);
  shared->options = options;
  auto server = std::make_unique<Server>(std::move(shared));
  REGULARS_TRY(server->Listen(address, port));
  return std::unique_ptr<TlsServer>(std::move(server));
}

Result<std::unique_ptr<TlsClient>> TlsClient::Connect(const std::string& host, uint16_t port,
                                                      const TlsFiles& files, TlsTimeouts timeouts) {
  REGULARS_ASSIGN_OR_RETURN(auto ctx, MakeContext(ssl::context::tls_client, files));
  auto client = std::make_unique<Client>(std::move(ctx), host, files, timeouts);
  REGULARS_TRY(client->Open(port));
  return std::unique_ptr<TlsClient>(std::move(client));
}

}  // namespace regulars
