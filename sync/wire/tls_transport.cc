#include "wire/tls_transport.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace regulars {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

constexpr size_t kMaxBodyBytes = 64 * 1024 * 1024;

// The other side is unreachable or refused us: retry later; nothing was lost.
Error TlsError(const std::string& doing, const beast::error_code& ec) {
  Error e = Error::Storage(doing + ": " + ec.message());
  e.code = "sync_unavailable";
  return e;
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

class Server final : public TlsServer {
 public:
  Server(std::unique_ptr<ssl::context> ctx, HttpHandler handler)
      : ctx_(std::move(ctx)), handler_(std::move(handler)), acceptor_(ioc_) {}
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
    thread_ = std::thread([this] { ioc_.run(); });
    return Status::Ok();
  }
  uint16_t port() const override { return port_; }
  int64_t connections() const override { return accepted_; }
  // Stops accepting, ends every connection's pending operation, and joins their threads,
  // so no connection outlives the server.
  void Stop() override {
    if (!thread_.joinable()) return;
    stopping_ = true;
    ioc_.stop();
    thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& c : connections_) c->ioc.stop();
    for (auto& c : connections_) c->thread.join();
    connections_.clear();
  }

 private:
  struct Connection {
    asio::io_context ioc;  // the connection's own, for its deadlines and for Stop
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (!ec && !stopping_) {
        ++accepted_;
        // Each connection on its own thread: a slow store never holds up another.
        std::lock_guard<std::mutex> lock(mutex_);
        // Connections that ended are joined here, so a long-running HQ keeps no dead threads.
        std::erase_if(connections_, [](std::unique_ptr<Connection>& c) {
          if (!c->done) return false;
          c->thread.join();
          return true;
        });
        auto c = std::make_unique<Connection>();
        Connection* raw = c.get();
        c->thread = std::thread([this, raw, s = std::move(socket)]() mutable {
          Serve(raw->ioc, std::move(s));
          raw->done = true;
        });
        connections_.push_back(std::move(c));
      }
      if (acceptor_.is_open() && !stopping_) Accept();
    });
  }

  void Serve(asio::io_context& ioc, tcp::socket socket) {
    beast::error_code ec;
    tcp::socket own(ioc);
    own.assign(tcp::v4(), socket.release(), ec);
    if (ec) return;
    Stream stream(beast::tcp_stream(std::move(own)), *ctx_);
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::chrono::seconds(10));
    stream.async_handshake(ssl::stream_base::server, [&](beast::error_code e) { ec = e; });
    ioc.run();
    if (ec || stopping_) return;  // no certificate, another CA, expired: refused here
    std::string store = StoreOfPeer(stream.native_handle());
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxBodyBytes);
      lowest.expires_after(std::chrono::seconds(60));
      ioc.restart();
      http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
      ioc.run();
      if (ec || stopping_) return;
      auto request = parser.release();
      HttpAnswer answer;
      if (store.empty()) {
        answer = {
            403,
            R"({"error": {"code": "unknown_store", "message": "the client certificate names no store", "where": ""}})"};
      } else {
        answer = handler_({store, std::string(request.method_string()),
                           std::string(request.target()), request.body()});
      }
      http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                                 request.version()};
      response.set(http::field::server, "regulars-hq");
      response.set(http::field::content_type, "application/json");
      response.keep_alive(request.keep_alive());
      response.body() = std::move(answer.body);
      response.prepare_payload();
      lowest.expires_after(std::chrono::seconds(60));
      ioc.restart();
      http::async_write(stream, response, [&](beast::error_code e, size_t) { ec = e; });
      ioc.run();
      // Stopping: the write may still be pending in `ioc` (Stop interrupted run), and it
      // refers to `response`. Return without running `ioc` again: the pending handlers
      // are then destroyed with the connection's io_context, never invoked on freed memory.
      if (stopping_) return;
      if (ec || !response.keep_alive()) break;
    }
    lowest.expires_after(std::chrono::seconds(2));
    ioc.restart();
    stream.async_shutdown([](beast::error_code) {});
    ioc.run();
  }

  std::unique_ptr<ssl::context> ctx_;
  HttpHandler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> accepted_{0};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

class Client final : public TlsClient {
 public:
  Client(std::unique_ptr<ssl::context> ctx, std::string host, TlsTimeouts timeouts)
      : ctx_(std::move(ctx)), host_(std::move(host)), timeouts_(timeouts), stream_(ioc_, *ctx_) {
    if (timeouts_.total_ms > 0) {
      deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeouts_.total_ms);
    }
  }

  Status Open(uint16_t port) {
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto endpoints = resolver.resolve(host_, std::to_string(port), ec);
    if (ec) return TlsError("resolving " + host_, ec);
    // The server's certificate must name this host (DNS name or IP address).
    stream_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification(host_));
    beast::error_code ip_ec;
    asio::ip::make_address(host_, ip_ec);
    if (ip_ec) SSL_set_tlsext_host_name(stream_.native_handle(), host_.c_str());  // SNI: names only
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_after(Within(timeouts_.connect_ms));
    lowest.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    Drive();
    if (ec) return TlsError("connecting to " + host_, ec);
    lowest.expires_after(Within(timeouts_.handshake_ms));
    stream_.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    Drive();
    if (ec) return TlsError("TLS handshake with " + host_, ec);
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
    if (ec) return TlsError("sending to " + host_, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    // Under TLS 1.3 a refused client certificate shows here, on the first read.
    http::async_read(stream_, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
    Drive();
    if (ec) return TlsError("reading the answer of " + host_, ec);
    auto response = parser.release();
    return HttpAnswer{static_cast<int>(response.result_int()), response.body()};
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
  TlsTimeouts timeouts_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  asio::io_context ioc_;
  Stream stream_;
  beast::flat_buffer buffer_;
};

}  // namespace

Result<std::unique_ptr<TlsServer>> TlsServer::Start(const std::string& address, uint16_t port,
                                                    const TlsFiles& files, HttpHandler handler) {
  auto ctx = MakeContext(ssl::context::tls_server, files);
  if (!ctx.ok()) return ctx.error();
  (*ctx)->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  auto server = std::make_unique<Server>(std::move(ctx).value(), std::move(handler));
  REGULARS_TRY(server->Listen(address, port));
  return std::unique_ptr<TlsServer>(std::move(server));
}

Result<std::unique_ptr<TlsClient>> TlsClient::Connect(const std::string& host, uint16_t port,
                                                      const TlsFiles& files, TlsTimeouts timeouts) {
  auto ctx = MakeContext(ssl::context::tls_client, files);
  if (!ctx.ok()) return ctx.error();
  auto client = std::make_unique<Client>(std::move(ctx).value(), host, timeouts);
  REGULARS_TRY(client->Open(port));
  return std::unique_ptr<TlsClient>(std::move(client));
}

}  // namespace regulars
