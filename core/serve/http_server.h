// The HTTP/1.1 transport of `bricks serve` (Boost.Beast over Asio): a listening socket,
// one thread per connection with keep-alive, size limits, chunked server-sent events, and
// detection of a client that hung up while its request runs. What each path answers is
// the Router's business (api_routes.h).
//
// Thread safety: listen() and run() from one thread; stop() from any thread (a signal
// handler's thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace bricks::serve {

class RequestStream;

struct HttpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;            // 0: any free port (see HttpServer::port)
  size_t max_body_bytes = 8 << 20; // larger bodies get 413
  int max_connections = 1024;      // beyond: 503 and close
  double idle_timeout_s = 60;      // a keep-alive connection with no request is closed
};

// One HTTP request as a route sees it, and the ways to answer it.
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const std::string& method() const = 0;
  virtual const std::string& target() const = 0;  // path (and query)
  virtual std::string_view header(std::string_view name) const = 0;
  virtual const std::string& body() const = 0;

  // A whole response. `extra` holds more header lines ("Name: value\r\n"...).
  virtual void respond(int status, std::string_view content_type, std::string body,
                       std::string_view extra_headers = {}) = 0;
  // Starts a text/event-stream response; then send() frames; end() closes it. Each
  // returns false once the client is gone.
  virtual bool begin_events() = 0;
  virtual bool send(std::string_view frames) = 0;
  virtual void end_events() = 0;
  // Blocks until `stream` has events to take (true) or the client hung up (false).
  virtual bool wait(const RequestStream& stream) = 0;
};

using Handler = std::function<void(Exchange&)>;

class HttpServer {
 public:
  HttpServer(HttpOptions options, Handler handler);
  ~HttpServer();

  // Binds and listens; throws std::runtime_error naming host:port and the reason.
  void listen();
  uint16_t port() const { return port_; }
  // Accepts connections until stop(); then waits for every connection thread to end.
  void run();
  // Stops accepting. Connections waiting for their next request close; those answering one
  // finish it first (the service drains or cancels it).
  void stop();

 private:
  struct Impl;
  void serve_connection(int fd);

  HttpOptions options_;
  Handler handler_;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable all_closed_;
  std::set<int> idle_fds_;  // connections waiting for a request (shut down on stop)
  int connections_ = 0;
};

}  // namespace bricks::serve
