// The pieces of `bricks serve` that need no server: log-probabilities, stream text
// hold-back, SSE parsing, Prometheus histograms.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "engine/logprobs.h"
#include "serve/http_client.h"
#include "serve/openai_request.h"
#include "serve/openai_response.h"
#include "serve/serve_metrics.h"
#include "test_models.h"

namespace bricks::testing {
namespace {

using nlohmann::json;

TEST(Logprobs, LogSoftmaxAndTopByHand) {
  // logits 0, ln 2, ln 2, ln 4: probabilities 1/9, 2/9, 2/9, 4/9.
  const std::vector<float> logits = {0.f, std::log(2.f), std::log(2.f), std::log(4.f)};
  const engine::GeneratedLogprobs g = engine::logprobs_of(logits, 1, 3);
  EXPECT_NEAR(g.logprob, std::log(2.0 / 9), 1e-6);
  ASSERT_EQ(g.top.size(), 3u);
  EXPECT_EQ(g.top[0].token, 3);
  EXPECT_NEAR(g.top[0].logprob, std::log(4.0 / 9), 1e-6);
  EXPECT_EQ(g.top[1].token, 1);  // a tie goes to the lower id
  EXPECT_EQ(g.top[2].token, 2);
  EXPECT_TRUE(engine::logprobs_of(logits, 0, 0).top.empty());
  EXPECT_EQ(engine::logprobs_of(logits, 0, 50).top.size(), 4u);
}

// Bodies that escaped as nlohmann exceptions (answered 500) until fuzz_http_request found
// them are the client's 400s.
TEST(OpenaiRequest, MalformedBodiesAreClientErrors) {
  auto status_of = [](auto&& parse) {
    try {
      parse();
    } catch (const serve::ApiError& e) {
      return e.status;
    }
    return 0;
  };
  EXPECT_EQ(status_of([] { serve::parse_json_body(R"({"max_tokens": 1e5130})"); }), 400);
  serve::ApiContext ctx;
  ctx.models = {{"m", ""}};
  const json body = json::parse(
      R"({"model": "m", "messages": [{"role": "user", "content": [{"type": 1, "text": "x"}]}]})");
  EXPECT_EQ(status_of([&] { serve::parse_chat_request(body, ctx); }), 400);
}

TEST(SseEvents, PartialEventsWaitForTheirEnd) {
  std::string buf = "data: {\"a\":1}\n\ndata: [DO";
  std::vector<std::string> got;
  auto take = [&] { serve::take_sse_events(buf, [&](std::string_view d) { got.emplace_back(d); }); };
  take();
  EXPECT_EQ(got, std::vector<std::string>{"{\"a\":1}"});
  EXPECT_EQ(buf, "data: [DO");
  buf += "NE]\n\n";
  take();
  EXPECT_EQ(got.back(), "[DONE]");
  EXPECT_TRUE(buf.empty());
}

class StreamText : public ::testing::Test {
 protected:
  const model::Tokenizer& tok() {
    static std::unique_ptr<model::Model> m = model::Model::open(process_model("tiny"));
    return m->tokenizer();
  }
  // The text the frames carry, concatenated.
  static std::string text_of(const std::string& frames) {
    std::string buf = frames, text;
    serve::take_sse_events(buf, [&](std::string_view d) {
      if (d == "[DONE]") return;
      text += json::parse(d)["choices"][0]["text"].get<std::string>();
    });
    return text;
  }
  serve::TokenEvent piece(std::string p) {
    serve::TokenEvent e;
    e.token = 5;
    e.piece = std::move(p);
    return e;
  }
};

TEST_F(StreamText, TailThatMayBecomeAStopStringIsHeldBack) {
  serve::ParsedRequest req;
  req.model = "m";
  req.spec.stop = {"\nUser:"};
  serve::ResponseBuilder rb(req, tok(), "cmpl-1", 0);
  std::string out;
  for (const char* p : {"Hel", "lo", "\n", "Us"}) {
    const std::string f = rb.stream_token(piece(p));
    out += f;
  }
  EXPECT_EQ(text_of(out), "Hello");  // "\nUs" could still become the stop string
  serve::DoneEvent d;
  d.finish = engine::FinishReason::kStop;
  d.text = "Hello";  // the engine cut the stop string
  out += rb.stream_done(d);
  EXPECT_EQ(text_of(out), "Hello");
}

TEST_F(StreamText, HeldTailThatIsNotAStopStringGoesOut) {
  serve::ParsedRequest req;
  req.model = "m";
  req.spec.stop = {"\nUser:"};
  serve::ResponseBuilder rb(req, tok(), "cmpl-1", 0);
  std::string out = rb.stream_token(piece("a\nU"));
  EXPECT_EQ(text_of(out), "a");
  out += rb.stream_token(piece("p"));
  EXPECT_EQ(text_of(out), "a\nUp");
}

TEST_F(StreamText, SplitUtf8CharactersGoOutWhole) {
  serve::ParsedRequest req;
  req.model = "m";
  serve::ResponseBuilder rb(req, tok(), "cmpl-1", 0);
  std::string out = rb.stream_token(piece("caf\xC3"));
  EXPECT_EQ(text_of(out), "caf");
  out += rb.stream_token(piece("\xA9!"));
  EXPECT_EQ(text_of(out), "caf\xC3\xA9!");
}

TEST_F(StreamText, FailureBecomesAnErrorEventBeforeDone) {
  serve::ParsedRequest req;
  req.model = "m";
  req.include_usage = true;
  serve::ResponseBuilder rb(req, tok(), "cmpl-1", 0);
  serve::DoneEvent d;
  d.finish = engine::FinishReason::kFailed;
  d.failure = "out of KV";
  std::string buf = rb.stream_done(d);
  std::vector<std::string> events;
  serve::take_sse_events(buf, [&](std::string_view e) { events.emplace_back(e); });
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(json::parse(events[0])["error"]["message"], "out of KV");
  EXPECT_TRUE(json::parse(events[1]).contains("usage"));
  EXPECT_EQ(events[2], "[DONE]");
}

TEST(PrometheusHistogram, BucketsAreCumulative) {
  serve::Histogram h({0.1, 1.0});
  for (double v : {0.05, 0.1, 0.5, 3.0}) h.observe(v);
  std::string out;
  h.render("x", out);
  EXPECT_EQ(out,
            "x_bucket{le=\"0.1\"} 2\nx_bucket{le=\"1\"} 3\nx_bucket{le=\"+Inf\"} 4\n"
            "x_sum 3.65\nx_count 4\n");
}

}  // namespace
}  // namespace bricks::testing
