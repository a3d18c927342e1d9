// What `bricks serve` does when things go wrong: clients that hang up, a full queue,
// missing keys, oversized bodies. Waits are bounded by counts of polls, never timed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>

#include "serve_fixture.h"

namespace bricks::testing {
namespace {

using nlohmann::json;

// The value of an unlabelled metric line "name value".
double metric(const std::string& text, const std::string& name) {
  const std::regex re("(^|\n)" + name + " ([0-9.e+-]+)\n");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return -1;
  return std::stod(m[2]);
}

class ServeFailures : public ServeFixture {
 protected:
  std::string metrics() {
    auto c = client();
    return c.request("GET", "/metrics").body;
  }
  // Polls /metrics until `pred` holds (at most ~60 s of 10 ms polls).
  bool eventually(const std::function<bool(const std::string&)>& pred) {
    for (int i = 0; i < 6000; ++i) {
      if (pred(metrics())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  static std::string long_stream_body() {
    return json{{"model", "tiny"}, {"prompt", "a long story"}, {"max_tokens", 480},
                {"ignore_eos", true}, {"stream", true}}.dump();
  }
};

TEST_F(ServeFailures, ClientThatHangsUpIsCancelledAndItsKvFreed) {
  start();
  {
    auto c = client();
    int seen = 0;
    // Read two chunks, then hang up mid-stream.
    c.stream("/v1/completions", long_stream_body(), [&](std::string_view) { return ++seen < 2; });
    EXPECT_EQ(seen, 2);
  }
  ASSERT_TRUE(eventually([](const std::string& m) {
    return m.find("bricks_requests_total{outcome=\"cancelled\"} 1\n") != std::string::npos;
  })) << metrics();
  const std::string m = metrics();
  EXPECT_EQ(metric(m, "bricks_kv_cache_usage_ratio"), 0.0) << m;
  EXPECT_EQ(metric(m, "bricks_requests_running"), 0.0) << m;
  // Far fewer than the 480 tokens asked for were made.
  EXPECT_LT(metric(m, "bricks_generation_tokens_total"), 480.0);
}

TEST_F(ServeFailures, NonStreamingClientThatHangsUpIsCancelled) {
  start();
  {
    // A raw socket that sends a request and closes without reading.
    auto c = client();
    std::thread t([&] {
      try {
        c.request("POST", "/v1/completions",
                  json{{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 480},
                       {"ignore_eos", true}}.dump());
      } catch (const std::exception&) {
      }
    });
    ASSERT_TRUE(eventually([](const std::string& m) {
      return metric(m, "bricks_requests_running") == 1.0;
    }));
    // From this thread only a shutdown: closing would race the read blocked in `t`.
    c.hang_up();
    t.join();
  }
  ASSERT_TRUE(eventually([](const std::string& m) {
    return m.find("bricks_requests_total{outcome=\"cancelled\"} 1\n") != std::string::npos;
  })) << metrics();
  EXPECT_EQ(metric(metrics(), "bricks_kv_cache_usage_ratio"), 0.0);
}

TEST_F(ServeFailures, FullQueueAnswers429WithRetryAfter) {
  // One sequence at a time and a queue of one: A runs, B waits, C is refused.
  start({.max_num_seqs = 1, .max_queued = 1});
  auto a = client();
  auto b = client();
  std::atomic<int> a_chunks{0};
  std::atomic<bool> b_started{false};
  std::thread ta([&] {
    a.stream("/v1/completions", long_stream_body(), [&](std::string_view) {
      ++a_chunks;
      return !b_started;  // hang up once B is in, freeing the sequence
    });
  });
  ASSERT_TRUE(eventually([&](const std::string&) { return a_chunks > 0; }));
  std::thread tb([&] {
    b.stream("/v1/completions",
             json{{"model", "tiny"}, {"prompt", "b"}, {"max_tokens", 2}, {"stream", true}}.dump(),
             [&](std::string_view) { return true; });
  });
  ASSERT_TRUE(eventually([](const std::string& m) {
    return metric(m, "bricks_requests_waiting") == 1.0;
  }));
  auto c = client();
  const serve::HttpResponse r = c.request(
      "POST", "/v1/completions", json{{"model", "tiny"}, {"prompt", "c"}, {"max_tokens", 2}}.dump());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.at("retry-after"), "1");
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "rate_limit_error");
  b_started = true;
  ta.join();
  tb.join();
  EXPECT_NE(metrics().find("bricks_requests_total{outcome=\"rejected\"} 1\n"), std::string::npos);
}

TEST_F(ServeFailures, ApiKeyIsRequiredOnTheApiButNotOnHealth) {
  start({.api_key = "s3cret"});
  auto c = client();
  const std::string body = json{{"model", "tiny"}, {"prompt", "x"}, {"max_tokens", 1}}.dump();
  serve::HttpResponse r = c.request("POST", "/v1/completions", body);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "invalid_api_key");
  EXPECT_EQ(c.request("POST", "/v1/completions", body, "Authorization: Bearer wrong\r\n").status,
            401);
  EXPECT_EQ(c.request("GET", "/v1/models", {}, "Authorization: Bearer s3cre\r\n").status, 401);
  EXPECT_EQ(c.request("POST", "/v1/completions", body, "Authorization: Bearer s3cret\r\n").status,
            200);
  EXPECT_EQ(c.request("GET", "/health").status, 200);
}

TEST_F(ServeFailures, OversizedBodyIs413) {
  start({.max_body_bytes = 4096});
  auto c = client();
  const std::string big = json{{"model", "tiny"}, {"prompt", std::string(10000, 'a')}}.dump();
  EXPECT_EQ(c.request("POST", "/v1/completions", big).status, 413);
  // The server is still there for the next client.
  auto d = client();
  EXPECT_EQ(d.request("GET", "/health").status, 200);
}

TEST_F(ServeFailures, RequestsInFlightFinishWhileOthersFail) {
  start();
  // A bad request beside good ones: the good ones finish.
  std::vector<std::thread> ts;
  std::atomic<int> ok{0}, bad{0};
  for (int i = 0; i < 6; ++i) {
    ts.emplace_back([&, i] {
      auto c = client();
      const json body = i == 3 ? json{{"model", "tiny"}, {"prompt", "x"}, {"top_k", "many"}}
                               : json{{"model", "tiny"}, {"prompt", "hi"}, {"max_tokens", 4}};
      const int s = c.request("POST", "/v1/completions", body.dump()).status;
      (s == 200 ? ok : bad)++;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(bad, 1);
}

}  // namespace
}  // namespace bricks::testing
