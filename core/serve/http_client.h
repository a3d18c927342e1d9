// A small blocking HTTP/1.1 client (Boost.Beast) for talking to `bricks serve`: what
// `bricks bench --endpoint` drives the server with, and what the serve tests use. One
// connection, kept alive between requests; server-sent events are handed over one
// `data:` payload at a time, as they arrive.
//
// Thread safety: one client per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace bricks::serve {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

class HttpClient {
 public:
  // Nothing is connected until the first request. Throws std::runtime_error when the
  // host is not an IP address.
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();

  // Extra headers as "Name: value\r\n" lines. Throws std::runtime_error on a connection
  // or protocol failure (the connection is then dropped; the next request reconnects).
  HttpResponse request(std::string_view method, std::string_view target,
                       std::string_view body = {}, std::string_view headers = {});

  // POSTs `body` and, for a text/event-stream answer, calls on_data with each event's
  // data payload ("[DONE]" included) as it arrives; returning false from on_data drops the
  // connection (a client going away). Any other answer comes back whole in the result;
  // for a stream, the result holds the status and headers.
  HttpResponse stream(std::string_view target, std::string_view body,
                      const std::function<bool(std::string_view data)>& on_data,
                      std::string_view headers = {});

  // Drops the connection (a client that hangs up).
  void close();

  // Shuts the connection down in both directions without closing it: the one call that may
  // come from another thread while request() or stream() blocks on this client, which then
  // fails. close() or the destructor releases the socket afterwards.
  void hang_up();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The payloads of the `data:` lines of complete events in `buffer`, removed from it; an
// incomplete event at the end stays for the next call.
void take_sse_events(std::string& buffer, const std::function<void(std::string_view)>& on_data);

}  // namespace bricks::serve
