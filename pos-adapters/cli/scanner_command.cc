// `regulars scanner --device PATH|-`: a keyboard-wedge or serial scanner's lines, each
// handed to recognition through the running `regulars serve` (POST /v1/recognize), which
// shows the customer on the cashier panel. The plugin strips the configured prefix and
// suffix (the "scan" identifier kind), so a line goes as the scanner sent it.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cli.h"
#include "config/config.h"
#include "env/log.h"
#include "json/error_json.h"

namespace regulars_cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Json = nlohmann::ordered_json;

// A scan longer than this is not a code: it is refused and skipped to its line's end.
constexpr size_t kMaxScanBytes = 4096;
constexpr std::chrono::seconds kRequestTimeout{5};

// One keep-alive connection to the service, opened again when it drops.
class ServiceClient {
 public:
  ServiceClient(std::string host, uint16_t port, std::string token)
      : host_(std::move(host)), port_(port), token_(std::move(token)) {}

  // The status and body of POST `target`, or an error message.
  bool Post(const std::string& target, const std::string& body, int* status, std::string* answer,
            std::string* problem) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      beast::error_code ec;
      if (!stream_) {
        stream_.emplace(ioc_);
        stream_->expires_after(kRequestTimeout);
        tcp::endpoint endpoint(asio::ip::make_address(host_, ec), port_);
        if (!ec) stream_->connect(endpoint, ec);
        if (!ec) {
          // Blocking calls ignore the stream's deadline: the socket's own timeouts bound
          // them, so a wedged service ends in an error, not a scanner that hangs.
          timeval limit{static_cast<time_t>(kRequestTimeout.count()), 0};
          setsockopt(stream_->socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit,
                     sizeof limit);
          setsockopt(stream_->socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit,
                     sizeof limit);
        }
        if (ec) {
          stream_.reset();
          *problem = "cannot reach the service at " + host_ + ":" + std::to_string(port_) +
                     " (is regulars serve running?): " + ec.message();
          return false;
        }
      }
      bhttp::request<bhttp::string_body> request(bhttp::verb::post, target, 11);
      request.set(bhttp::field::host, host_);
      request.set(bhttp::field::authorization, "Bearer " + token_);
      request.set(bhttp::field::content_type, "application/json");
      request.keep_alive(true);
      request.body() = body;
      request.prepare_payload();
      stream_->expires_after(kRequestTimeout);
      bhttp::write(*stream_, request, ec);
      beast::flat_buffer buffer;
      bhttp::response<bhttp::string_body> response;
      if (!ec) bhttp::read(*stream_, buffer, response, ec);
      if (ec) {
        // A keep-alive connection the service closed meanwhile: once more on a new one.
        stream_.reset();
        *problem = "the service did not answer: " + ec.message();
        continue;
      }
      if (!response.keep_alive()) stream_.reset();
      *status = static_cast<int>(response.result_int());
      *answer = std::move(response.body());
      return true;
    }
    return false;
  }

 private:
  asio::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
  std::string host_;
  uint16_t port_;
  std::string token_;
};

// A serial scanner's tty: raw bytes, no echo, a read returning as soon as a byte comes.
void MakeRaw(int fd) {
  termios t{};
  if (tcgetattr(fd, &t) != 0) return;
  cfmakeraw(&t);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  tcsetattr(fd, TCSANOW, &t);
}

}  // namespace

int RunScanner(const std::string& config_path, const std::string& device, int port) {
  auto config = regulars::LoadConfigFile(config_path);
  if (!config.ok()) {
    const auto& e = config.error();
    std::cerr << regulars::StderrPriorityPrefix(regulars::LogPriority::kErr)
              << regulars::ErrorJson(e) << "\n";
    return kExitBadInput;
  }
  if (!config->http.enabled()) {
    std::cerr << regulars::ErrorJson(
                     "http_not_configured",
                     "the scanner talks to regulars serve: the config needs an \"http\" "
                     "section",
                     config_path + "#/http")
              << "\n";
    return kExitBadInput;
  }
  int fd = device == "-" ? STDIN_FILENO : open(device.c_str(), O_RDONLY | O_NOCTTY);
  if (fd < 0) {
    std::cerr << regulars::ErrorJson("invalid_arguments", "cannot open " + device, "--device")
              << "\n";
    return kExitBadInput;
  }
  if (isatty(fd) && device != "-") MakeRaw(fd);
  // A service listening on every address is reached on loopback.
  std::string host = config->http.listen;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  // Each scan's trouble is the log's (the scanner runs as a service); never the scanned
  // text, which may be a card number or a QR payload.
  auto log = regulars::Logger::ToStderr(config->till.store_id, config->till.till_id);
  ServiceClient client(host, port >= 0 ? static_cast<uint16_t>(port) : config->http.port,
                       config->http.token);

  int64_t line_number = 0;
  bool unreachable = false;
  int64_t answered = 0, refused = 0;  // 2xx answers; 401/403 (a wrong or missing token)
  std::string line;
  bool overlong = false;
  // One scan: recognized through the service, one JSON line out.
  auto scan = [&](const std::string& text) {
    ++line_number;
    if (overlong) {
      log.Warning("scan_skipped",
                  {{"code", "invalid_scan"},
                   {"message",
                    "a scan longer than " + std::to_string(kMaxScanBytes) + " bytes was skipped"},
                   {"device", device},
                   {"scan", line_number}});
      return;
    }
    Json request{{"identifiers", {{{"kind", "scan"}, {"value", text}}}}};
    int status = 0;
    std::string answer, problem;
    if (!client.Post("/v1/recognize",
                     request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     &status, &answer, &problem)) {
      unreachable = true;
      log.Error("scan_failed", {{"code", "service_unavailable"},
                                {"message", problem},
                                {"device", device},
                                {"scan", line_number}});
      return;
    }
    if (status >= 200 && status < 300) ++answered;
    if (status == 401 || status == 403) ++refused;
    Json out{{"scan", line_number}, {"status", status}};
    Json parsed = Json::parse(answer, nullptr, false);
    out["answer"] = parsed.is_discarded() ? Json(answer) : parsed;
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  };
  char buffer[512];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      char c = buffer[i];
      // Scanners end a code with CR, LF or both; an empty line between is no scan.
      if (c == '\r' || c == '\n') {
        if (!line.empty() || overlong) scan(line);
        line.clear();
        overlong = false;
      } else if (line.size() >= kMaxScanBytes) {
        overlong = true;
      } else {
        line += c;
      }
    }
  }
  if (!line.empty() || overlong) scan(line);
  if (fd != STDIN_FILENO) close(fd);
  if (refused > 0 && answered == 0) {
    // Not one scan reached the panel: an operator must hear of it, not read a log of 401s.
    std::cerr << regulars::StderrPriorityPrefix(regulars::LogPriority::kErr)
              << regulars::ErrorJson("scans_refused",
                                     "the service refused every scan (" + std::to_string(refused) +
                                         "): check http.token in the config against the service's",
                                     device)
              << "\n";
    return kExitFailure;
  }
  return unreachable ? kExitFailure : kExitOk;
}

}  // namespace regulars_cli
