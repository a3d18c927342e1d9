#include "serve/http_server.h"

#include <poll.h>
#include <cerrno>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <thread>

#include "serve/header_lines.h"
#include "serve/request_stream.h"

namespace bricks::serve {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct HttpServer::Impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

namespace {

class SocketExchange final : public Exchange {
 public:
  SocketExchange(tcp::socket& sock, http::request<http::string_body>& req, bool keep_alive)
      : sock_(sock), req_(req), keep_alive_(keep_alive),
        method_(req.method_string()), target_(req.target()) {}

  const std::string& method() const override { return method_; }
  const std::string& target() const override { return target_; }
  std::string_view header(std::string_view name) const override {
    auto it = req_.find(boost::beast::string_view(name.data(), name.size()));
    if (it == req_.end()) return {};
    return {it->value().data(), it->value().size()};
  }
  const std::string& body() const override { return req_.body(); }

  void respond(int status, std::string_view content_type, std::string body,
               std::string_view extra_headers) override {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "bricks");
    res.set(http::field::content_type, std::string(content_type));
    set_header_lines(res, extra_headers);
    res.keep_alive(keep_alive_);
    res.body() = std::move(body);
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(sock_, res, ec);
    if (ec) gone_ = true;
    responded_ = true;
  }

  bool begin_events() override {
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::server, "bricks");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    res.keep_alive(keep_alive_);
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    boost::system::error_code ec;
    http::write_header(sock_, sr, ec);
    responded_ = true;
    if (ec) gone_ = true;
    return !gone_;
  }

  bool send(std::string_view frames) override {
    if (gone_ || frames.empty()) return !gone_;
    boost::system::error_code ec;
    net::write(sock_, http::make_chunk(net::buffer(frames.data(), frames.size())), ec);
    if (ec) gone_ = true;
    return !gone_;
  }

  void end_events() override {
    if (gone_) return;
    boost::system::error_code ec;
    net::write(sock_, http::make_chunk_last(), ec);
    if (ec) gone_ = true;
  }

  bool wait(const RequestStream& stream) override {
    for (;;) {
      // POLLRDHUP, not POLLIN: a pipelined next request must not look like a hang-up.
      pollfd fds[2] = {{sock_.native_handle(), POLLRDHUP, 0}, {stream.fd(), POLLIN, 0}};
      const int n = ::poll(fds, 2, 1000);
      if (n < 0 && errno != EINTR) {
        gone_ = true;
        return false;
      }
      if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
        gone_ = true;
        return false;
      }
      if (fds[1].revents & POLLIN) return true;
    }
  }

  bool gone() const { return gone_; }
  bool responded() const { return responded_; }

 private:
  tcp::socket& sock_;
  http::request<http::string_body>& req_;
  bool keep_alive_;
  std::string method_, target_;
  bool gone_ = false;
  bool responded_ = false;
};

void write_plain(tcp::socket& sock, http::status status, const std::string& json_body) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::server, "bricks");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = json_body;
  res.prepare_payload();
  boost::system::error_code ec;
  http::write(sock, res, ec);
}

std::string error_json(const std::string& message, const char* type) {
  // Messages here are fixed texts or Beast's, never client bytes: no escaping needed
  // beyond quotes, which they do not contain.
  return fmt::format(R"({{"error":{{"message":"{}","type":"{}","param":null,"code":null}}}})",
                     message, type);
}

std::string too_large(size_t limit) {
  return error_json(fmt::format("the body is larger than the limit of {} bytes", limit),
                    "invalid_request_error");
}

// Closes after the last response without losing it: closing with unread request bytes
// (a refused body) makes the kernel send a reset that can destroy the response in flight,
// so the write side is shut first and what the client still sends is read and dropped, for
// a bounded time and amount.
void linger_close(tcp::socket& sock) {
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
  char sink[16384];
  size_t drained = 0;
  while (!ec && drained < (64u << 20)) {
    pollfd p{sock.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) break;
    const ssize_t n = ::recv(sock.native_handle(), sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  sock.close(ec);
}

}  // namespace

HttpServer::HttpServer(HttpOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)), impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() = default;

void HttpServer::listen() {
  boost::system::error_code ec;
  const net::ip::address addr = net::ip::make_address(options_.host, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("--host {} is not an IP address (give one such as "
                                         "127.0.0.1 or ::1)", options_.host));
  }
  const tcp::endpoint ep(addr, options_.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", options_.host,
                                         options_.port, ec.message()));
  }
  port_ = a.local_endpoint().port();
}

void HttpServer::run() {
  auto& a = impl_->acceptor;
  while (!stopping_) {
    tcp::socket sock(impl_->ioc);
    boost::system::error_code ec;
    a.accept(sock, ec);
    if (stopping_) break;
    if (ec) {
      if (ec == net::error::bad_descriptor || ec == net::error::invalid_argument) break;
      spdlog::warn("accept: {}", ec.message());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // e.g. EMFILE
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (connections_ >= options_.max_connections) {
        write_plain(sock, http::status::service_unavailable,
                    error_json("too many connections; retry later", "server_error"));
        continue;
      }
      ++connections_;
    }
    std::thread([this, s = std::move(sock)]() mutable {
      const int fd = s.native_handle();
      try {
        serve_connection(fd);
      } catch (const std::exception& e) {
        spdlog::error("connection: {}", e.what());
      }
      boost::system::error_code ignored;
      s.shutdown(tcp::socket::shutdown_both, ignored);
      std::lock_guard lock(mu_);
      idle_fds_.erase(fd);
      s.close(ignored);
      if (--connections_ == 0) all_closed_.notify_all();
    }).detach();
  }
  std::unique_lock lock(mu_);
  for (int fd : idle_fds_) ::shutdown(fd, SHUT_RDWR);
  all_closed_.wait(lock, [&] { return connections_ == 0; });
}

void HttpServer::stop() {
  stopping_ = true;
  std::lock_guard lock(mu_);
  // Wakes the blocked accept(); the descriptor itself is closed by the accepting thread.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  for (int fd : idle_fds_) ::shutdown(fd, SHUT_RDWR);
}

void HttpServer::serve_connection(int fd) {
  // Rebinds the descriptor to a socket object this thread owns the use of; the accepting
  // thread's object keeps ownership and closes it.
  net::io_context ioc;
  tcp::socket sock(ioc);
  boost::system::error_code ec;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  sock.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), ::dup(fd), ec);
  if (ec) return;
  // Streams are many small writes: without this, each waits for the previous one's ACK.
  sock.set_option(tcp::no_delay(true), ec);
  boost::beast::flat_buffer buf;
  const int idle_ms = static_cast<int>(options_.idle_timeout_s * 1000);
  for (;;) {
    if (buf.size() == 0) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) break;
        idle_fds_.insert(fd);
      }
      pollfd p{fd, POLLIN, 0};
      const int n = ::poll(&p, 1, idle_ms);
      {
        std::lock_guard lock(mu_);
        idle_fds_.erase(fd);
      }
      if (n <= 0 || stopping_) break;
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(options_.max_body_bytes);
    http::read_header(sock, buf, parser, ec);
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      break;
    }
    if (ec == http::error::body_limit) {  // a Content-Length over the limit
      write_plain(sock, http::status::payload_too_large, too_large(options_.max_body_bytes));
      break;
    }
    if (ec) {
      write_plain(sock, http::status::bad_request,
                  error_json("malformed HTTP request: " + ec.message(), "invalid_request_error"));
      break;
    }
    const auto& h = parser.get();
    const auto expect = h.find(http::field::expect);
    if (expect != h.end() && boost::beast::iequals(expect->value(), "100-continue")) {
      net::write(sock, net::buffer(std::string_view("HTTP/1.1 100 Continue\r\n\r\n")), ec);
      if (ec) break;
    }
    http::read(sock, buf, parser, ec);
    if (ec == http::error::body_limit) {  // a chunked body that grew over the limit
      write_plain(sock, http::status::payload_too_large, too_large(options_.max_body_bytes));
      break;
    }
    if (ec) {
      if (ec != http::error::end_of_stream && ec != net::error::eof) {
        write_plain(sock, http::status::bad_request,
                    error_json("malformed HTTP request: " + ec.message(), "invalid_request_error"));
      }
      break;
    }
    http::request<http::string_body> req = parser.release();
    const bool keep_alive = req.keep_alive() && !stopping_;
    SocketExchange ex(sock, req, keep_alive);
    handler_(ex);
    if (ex.gone()) break;
    if (!ex.responded()) {
      write_plain(sock, http::status::internal_server_error,
                  error_json("the server gave no response", "server_error"));
      break;
    }
    if (ex.gone() || !keep_alive) break;
  }
  linger_close(sock);
}

}  // namespace bricks::serve
