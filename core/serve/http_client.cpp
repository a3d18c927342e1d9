#include "serve/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <fmt/format.h>
#include <stdexcept>

#include "serve/header_lines.h"

namespace bricks::serve {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct HttpClient::Impl {
  net::io_context ioc;
  tcp::endpoint endpoint;
  tcp::socket sock{ioc};
  boost::beast::flat_buffer buf;
  std::string host;
  std::atomic<int> fd{-1};  // the connected socket's descriptor, for hang_up()

  void ensure_connected() {
    if (sock.is_open()) return;
    boost::system::error_code ec;
    sock.connect(endpoint, ec);
    if (ec) {
      sock = tcp::socket(ioc);
      throw std::runtime_error(fmt::format("cannot connect to {}:{}: {}", host, endpoint.port(),
                                           ec.message()));
    }
    sock.set_option(tcp::no_delay(true), ec);
    fd.store(sock.native_handle());
    buf.clear();
  }
  void drop() {
    fd.store(-1);
    boost::system::error_code ec;
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
    buf.clear();
  }
  http::request<http::string_body> make(std::string_view method, std::string_view target,
                                        std::string_view body, std::string_view headers) {
    http::request<http::string_body> req{http::string_to_verb(std::string(method)),
                                         std::string(target), 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "bricks");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    set_header_lines(req, headers);
    req.keep_alive(true);
    req.body() = std::string(body);
    req.prepare_payload();
    return req;
  }
  template <class Fields>
  static void copy_headers(const Fields& f, HttpResponse& out) {
    for (const auto& h : f) {
      std::string name(h.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(h.value());
    }
  }
};

HttpClient::HttpClient(std::string host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  boost::system::error_code ec;
  const auto addr = net::ip::make_address(host, ec);
  if (ec) throw std::runtime_error(fmt::format("'{}' is not an IP address", host));
  impl_->endpoint = tcp::endpoint(addr, port);
  impl_->host = std::move(host);
}

HttpClient::~HttpClient() { impl_->drop(); }

void HttpClient::close() { impl_->drop(); }

void HttpClient::hang_up() {
  // The socket object belongs to the thread in request(); the descriptor alone is shared.
  if (const int fd = impl_->fd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 std::string_view body, std::string_view headers) {
  impl_->ensure_connected();
  auto req = impl_->make(method, target, body, headers);
  boost::system::error_code ec;
  http::write(impl_->sock, req, ec);
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 30);
  if (!ec) http::read(impl_->sock, impl_->buf, parser, ec);
  if (ec) {
    impl_->drop();
    throw std::runtime_error(fmt::format("{} {}: {}", method, target, ec.message()));
  }
  HttpResponse out;
  const auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  Impl::copy_headers(res, out);
  out.body = res.body();
  if (!res.keep_alive()) impl_->drop();
  return out;
}

HttpResponse HttpClient::stream(std::string_view target, std::string_view body,
                                const std::function<bool(std::string_view)>& on_data,
                                std::string_view headers) {
  impl_->ensure_connected();
  auto req = impl_->make("POST", target, body, headers);
  boost::system::error_code ec;
  http::write(impl_->sock, req, ec);
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 30);
  if (!ec) http::read_header(impl_->sock, impl_->buf, parser, ec);
  if (ec) {
    impl_->drop();
    throw std::runtime_error(fmt::format("POST {}: {}", target, ec.message()));
  }
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  Impl::copy_headers(parser.get(), out);
  const auto ct = out.headers.find("content-type");
  if (ct == out.headers.end() || ct->second.rfind("text/event-stream", 0) != 0) {
    http::read(impl_->sock, impl_->buf, parser, ec);
    if (ec) {
      impl_->drop();
      throw std::runtime_error(fmt::format("POST {}: {}", target, ec.message()));
    }
    out.body = parser.get().body();
    if (!parser.get().keep_alive()) impl_->drop();
    return out;
  }
  // Events are cut from the body as each piece of it arrives.
  std::string pending;
  bool keep_going = true;
  auto on_chunk = [&](uint64_t, boost::beast::string_view data, boost::system::error_code&) {
    pending.append(data.data(), data.size());
    take_sse_events(pending, [&](std::string_view d) {
      if (keep_going) keep_going = on_data(d);
    });
    return data.size();
  };
  parser.on_chunk_body(on_chunk);
  while (!parser.is_done() && keep_going) {
    http::read_some(impl_->sock, impl_->buf, parser, ec);
    if (ec) {
      impl_->drop();
      throw std::runtime_error(fmt::format("POST {} (stream): {}", target, ec.message()));
    }
  }
  if (!keep_going || !parser.get().keep_alive()) impl_->drop();
  return out;
}

void take_sse_events(std::string& buffer, const std::function<void(std::string_view)>& on_data) {
  size_t start = 0;
  for (;;) {
    const size_t end = buffer.find("\n\n", start);
    if (end == std::string::npos) break;
    std::string_view event(buffer.data() + start, end - start);
    while (!event.empty()) {
      const size_t eol = event.find('\n');
      const std::string_view line = event.substr(0, eol);
      if (line.rfind("data:", 0) == 0) {
        std::string_view d = line.substr(5);
        if (!d.empty() && d.front() == ' ') d.remove_prefix(1);
        on_data(d);
      }
      if (eol == std::string_view::npos) break;
      event.remove_prefix(eol + 1);
    }
    start = end + 2;
  }
  buffer.erase(0, start);
}

}  // namespace bricks::serve
