// The endpoints of `bricks serve`: the OpenAI API (/v1/completions, /v1/chat/completions,
// /v1/models), /tokenize, /detokenize, /health and /metrics, over one EngineService.
//
// Thread safety: handle() is called by every connection thread at once; the routes keep
// no state of their own beyond what EngineService and ServeMetrics lock.
#pragma once

#include <string>

#include "serve/engine_service.h"
#include "serve/http_server.h"
#include "serve/openai_request.h"

namespace bricks::serve {

struct RouteOptions {
  // Required as "Authorization: Bearer KEY" on /v1/*, /tokenize and /detokenize when not
  // empty (/health and /metrics stay open to probes and scrapers).
  std::string api_key;
};

class Routes {
 public:
  Routes(EngineService& service, ApiContext context, RouteOptions options);
  void handle(Exchange& ex);

 private:
  void completion(Exchange& ex, bool chat);
  void models(Exchange& ex);
  void tokenize(Exchange& ex);
  void detokenize(Exchange& ex);
  void health(Exchange& ex);
  bool authorized(const Exchange& ex) const;

  EngineService& service_;
  ApiContext ctx_;
  RouteOptions options_;
  std::string key_digest_;  // SHA-256 of the key: compared in constant time
};

}  // namespace bricks::serve
