#include "http/http_server.h"

#include <openssl/crypto.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace regulars::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

// A client gets this long to take a refusal before the connection is dropped.
constexpr milliseconds kRefusalTimeout{2000};
// An event stream sends a comment this often: proxies keep it open, a gone client shows.
constexpr milliseconds kStreamPing{15'000};

// A refused client's rest of request is read and dropped for this long (or this much), so
// it sees the answer rather than a reset from unread bytes.
constexpr milliseconds kDrainTime{1000};
constexpr size_t kDrainBytes = size_t{64} * 1024;

struct Shared {
  explicit Shared(int workers) : handlers(static_cast<size_t>(std::max(1, workers))) {}
  Limits limits;
  Handler handler;
  Observer observer;
  std::atomic<int> open{0};
  std::mutex open_mutex;  // so the gauge is told the counts in the order they happened
  // The handler may block (a durable commit, HQ's look-up): it runs here, never on the
  // network threads, which keep accepting, timing out and answering health checks.
  asio::thread_pool handlers;

  void Refused(std::string_view reason) const {
    if (observer.refused) observer.refused(reason);
  }
  void Opened(int delta) {
    std::lock_guard<std::mutex> lock(open_mutex);
    int now = open.fetch_add(delta) + delta;
    if (observer.connections) observer.connections(now);
  }
};

// What went wrong reading a request, as the status and error the client gets.
struct Refusal {
  int status;
  const char* code;
  std::string message;
  const char* where;
};

Refusal RefusalFor(const beast::error_code& ec, const Limits& limits, bool got_some) {
  if (ec == bhttp::error::body_limit) {
    return {413, "payload_too_large",
            "the request body is larger than " + std::to_string(limits.max_body_bytes) + " bytes",
            "Content-Length"};
  }
  if (ec == bhttp::error::header_limit) {
    return {
        431, "headers_too_large",
        "the request headers are larger than " + std::to_string(limits.max_header_bytes) + " bytes",
        "headers"};
  }
  if (ec == beast::error::timeout && got_some) {
    return {408, "request_timeout",
            "the request did not arrive whole within " + std::to_string(limits.request_timeout_ms) +
                " ms",
            "request"};
  }
  return {400, "bad_request", "malformed HTTP request: " + ec.message(), "request"};
}

class Session : public std::enable_shared_from_this<Session>, public EventSink {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)),
        shared_(std::move(shared)),
        ping_(stream_.get_executor()),
        deadline_(stream_.get_executor()) {}
  ~Session() override {
    if (counted_) shared_->Opened(-1);
  }

  void Start() {
    counted_ = true;
    shared_->Opened(+1);
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->AwaitRequest(); });
  }

  // Answers 503 and closes: the server is at its connection limit.
  void Refuse() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->shared_->Refused("too_many_connections");
      self->stream_.expires_after(kRefusalTimeout);
      self->WriteError(
          503,
          ErrorJson("too_many_connections",
                    "the service has " + std::to_string(self->shared_->limits.max_connections) +
                        " connections open; try again",
                    "connection"),
          11, true);
    });
  }

  bool Send(std::string text) override {
    if (closed_) return false;
    asio::post(stream_.get_executor(),
               [self = shared_from_this(), text = std::move(text)]() mutable {
                 self->queue_.push_back(std::move(text));
                 self->WriteStream();
               });
    return true;
  }

 private:
  // Waits for the first byte of the next request under the idle timeout (the request
  // timeout for a new connection), so a quiet keep-alive connection costs nothing.
  void AwaitRequest() {
    if (buffer_.size() > 0) return ReadRequest();
    stream_.expires_after(milliseconds(first_ ? shared_->limits.request_timeout_ms
                                              : shared_->limits.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadRequest();
                            });
  }

  // Then the whole request must arrive within the request timeout. Its own timer, not the
  // stream's deadline: that one closes the socket, and a slow client is owed its 408.
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(shared_->limits.max_header_bytes));
    parser_->body_limit(static_cast<uint64_t>(shared_->limits.max_body_bytes));
    stream_.expires_never();
    timed_out_ = false;
    deadline_.expires_after(milliseconds(shared_->limits.request_timeout_ms));
    reading_ = true;
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      // A deadline already due when the read finished must not touch what follows it.
      if (ec || !self->reading_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->reading_ = false;
                        self->deadline_.cancel();
                        // Only a read the deadline cut short is a timeout.
                        bool cut = self->timed_out_ && ec == asio::error::operation_aborted;
                        self->OnRequest(cut ? beast::error::timeout : ec);
                      });
  }

  void OnRequest(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream) return Close();
    if (ec) {
      Refusal r = RefusalFor(ec, shared_->limits, parser_->got_some());
      shared_->Refused(r.code);
      stream_.expires_after(kRefusalTimeout);
      return WriteError(r.status, ErrorJson(r.code, r.message, r.where), 11, true);
    }
    auto& message = parser_->get();
    Request request;
    request.method = std::string(message.method_string());
    std::string_view target = message.target();
    size_t question = target.find('?');
    request.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos)
      request.query = std::string(target.substr(question + 1));
    if (auto it = message.find(bhttp::field::authorization); it != message.end()) {
      request.authorization = std::string(it->value());
    }
    request.body = std::move(message.body());
    unsigned version = message.version();
    bool keep_alive = message.keep_alive();
    // To the handlers' pool; the answer comes back to this connection's strand.
    asio::post(shared_->handlers, [self = shared_from_this(), request = std::move(request), version,
                                   keep_alive]() mutable {
      Response response;
      try {
        response = self->shared_->handler(request);
      } catch (const std::exception& e) {
        response =
            Response::Of(500, "application/json", ErrorJson("internal", e.what(), request.path));
      }
      // The body may hold a card number the library has already hashed and wiped.
      OPENSSL_cleanse(request.body.data(), request.body.size());
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), version, keep_alive]() mutable {
                   self->Answer(std::move(response), version, keep_alive);
                 });
    });
  }

  void Answer(Response response, unsigned version, bool keep_alive) {
    if (closed_) return;
    if (response.on_stream) return OpenStream(response);
    auto answer = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), version);
    answer->set(bhttp::field::server, "regulars");
    answer->set(bhttp::field::content_type, response.content_type);
    answer->set(bhttp::field::cache_control, "no-store");
    for (const auto& [name, value] : response.headers) answer->set(name, value);
    answer->body() = std::move(response.body);
    answer->keep_alive(keep_alive);
    answer->prepare_payload();
    stream_.expires_after(milliseconds(shared_->limits.request_timeout_ms));
    bhttp::async_write(stream_, *answer,
                       [self = shared_from_this(), answer](beast::error_code failed, size_t) {
                         if (failed || !answer->keep_alive()) return self->Close();
                         self->first_ = false;
                         self->AwaitRequest();
                       });
  }

  void WriteError(int status, std::string body, unsigned version, bool close) {
    auto answer = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(status), version);
    answer->set(bhttp::field::server, "regulars");
    answer->set(bhttp::field::content_type, "application/json");
    answer->body() = std::move(body);
    answer->keep_alive(!close);
    answer->prepare_payload();
    bhttp::async_write(stream_, *answer,
                       [self = shared_from_this(), answer](beast::error_code ec, size_t) {
                         if (ec) return self->Close();
                         self->Drain();
                       });
  }

  // Ends a refused connection gently: our side is shut, then what the client still sends
  // is read and dropped a little while, so its unread bytes do not turn into a reset that
  // would hide the answer.
  void Drain() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTime);
    DrainSome();
  }
  void DrainSome() {
    if (drained_ >= kDrainBytes) return Close();
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->drained_ += n;
                              self->DrainSome();
                            });
  }

  // An event stream: the header, then messages as they come, until the client goes.
  void OpenStream(const Response& response) {
    std::string header =
        "HTTP/1.1 200 OK\r\nServer: regulars\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n";
    for (const auto& [name, value] : response.headers) header += name + ": " + value + "\r\n";
    queue_.push_back(header + "\r\n");
    stream_.expires_never();
    WriteStream();
    response.on_stream(shared_from_this());
    // A read ending (the client closed) ends the stream; nothing is expected from it.
    stream_.async_read_some(
        buffer_.prepare(1024),
        [self = shared_from_this()](beast::error_code, size_t) { self->Close(); });
    Ping();
  }

  void Ping() {
    ping_.expires_after(kStreamPing);
    ping_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_) return;
      self->queue_.push_back(": ping\n\n");
      self->WriteStream();
      self->Ping();
    });
  }

  void WriteStream() {
    if (writing_ || queue_.empty() || closed_) return;
    writing_ = true;
    stream_.expires_after(milliseconds(shared_->limits.request_timeout_ms));
    asio::async_write(stream_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->Close();
                        self->queue_.pop_front();
                        self->stream_.expires_never();
                        self->WriteStream();
                      });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    ping_.cancel();
    deadline_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  asio::steady_timer ping_;
  asio::steady_timer deadline_;  // of the request being read
  bool timed_out_ = false;
  bool reading_ = false;
  size_t drained_ = 0;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::deque<std::string> queue_;
  bool first_ = true;
  bool writing_ = false;
  bool counted_ = false;
  std::atomic<bool> closed_{false};
};

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(std::shared_ptr<Shared> shared)
      : shared_(std::move(shared)), acceptor_(asio::make_strand(ioc_)) {}
  ~ServerImpl() override { Stop(); }
  ServerImpl(const ServerImpl&) = delete;
  ServerImpl& operator=(const ServerImpl&) = delete;

  Status Listen(const std::string& address, uint16_t port) {
    beast::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (ec) return Error::BadInput("invalid_address", "not an IP address: " + address, "listen");
    tcp::endpoint endpoint(ip, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      // Not the database's fault: name it. The kind keeps exit status 1 (the service may
      // be restarted and find the port free), unlike a bad config's 2.
      std::string where = address + ":" + std::to_string(port);
      if (ec == asio::error::address_in_use) {
        return Error{ErrorKind::kStorage, "port_in_use",
                     where + " is already in use by another program (another regulars serve?)",
                     "listen"};
      }
      return Error{ErrorKind::kStorage, "cannot_listen",
                   "cannot listen on " + where + ": " + ec.message(), "listen"};
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, shared_->limits.threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }

  // Through the network threads, then the handlers' pool: a ping posted here stops
  // when either is stuck.
  void Post(std::function<void()> work) override {
    asio::post(ioc_, [shared = shared_, work = std::move(work)]() mutable {
      asio::post(shared->handlers, std::move(work));
    });
  }

  // Stops the network threads, then lets running handlers finish. The connections end
  // when the server is destroyed (with the io_context that holds them).
  void Stop() override {
    if (threads_.empty()) return;
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    shared_->handlers.join();
  }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           [this](beast::error_code ec, tcp::socket socket) {
                             if (ec == asio::error::operation_aborted) return;
                             if (!ec) {
                               // Answers go out whole: no waiting on Nagle for the last bytes.
                               beast::error_code ignored;
                               socket.set_option(tcp::no_delay(true), ignored);
                               auto session = std::make_shared<Session>(std::move(socket), shared_);
                               if (shared_->open.load() >= shared_->limits.max_connections) {
                                 session->Refuse();
                               } else {
                                 session->Start();
                               }
                             }
                             Accept();
                           });
  }

  std::shared_ptr<Shared> shared_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const std::string& address, uint16_t port,
                                              const Limits& limits, Handler handler,
                                              Observer observer) {
  auto shared = std::make_shared<Shared>(limits.threads);
  shared->limits = limits;
  shared->handler = std::move(handler);
  shared->observer = std::move(observer);
  auto server = std::make_unique<ServerImpl>(std::move(shared));
  auto listening = server->Listen(address, port);
  if (!listening.ok()) return listening.error();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace regulars::http
