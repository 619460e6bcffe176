// Responses produced on worker threads: chunked streaming, delayed Content-Length responses,
// slow readers, and clients that disconnect while waiting or while streaming.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <vector>

#include "test_client.h"

namespace corral::http::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Threads started by handlers, joined at the end of the test (declared before the harness so
// they outlive the server and see their writers report client_gone on shutdown).
class Workers {
 public:
  ~Workers() {
    std::lock_guard lock(mu_);
    for (auto& t : threads_) t.join();
  }
  void spawn(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    threads_.emplace_back(std::move(fn));
  }

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

// Hands a pending writer from the handler to the test body.
class WriterSlot {
 public:
  void put(std::shared_ptr<ResponseWriter> w) {
    std::lock_guard lock(mu_);
    writer_ = std::move(w);
    cv_.notify_all();
  }
  std::shared_ptr<ResponseWriter> wait(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return writer_ != nullptr; });
    return writer_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<ResponseWriter> writer_;
};

TEST(Streaming, ChunksFromAWorkerArriveIncrementally) {
  Workers workers;
  ServerHarness h;
  h.server().route("POST", "/api/generate", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    workers.spawn([w] {
      w->start(200, "application/x-ndjson", {}, /*chunked=*/true);
      for (int i = 0; i < 5; ++i) {
        std::this_thread::sleep_for(100ms);
        w->write("{\"token\":" + std::to_string(i) + "}\n");
      }
      w->finish();
    });
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("POST", "/api/generate", "{}")));
  auto head = c.read_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(head->header("Content-Type"), "application/x-ndjson");
  auto t_head = Clock::now();
  std::vector<Clock::time_point> arrivals;
  for (int i = 0; i < 5; ++i) {
    auto chunk = c.read_chunk();
    ASSERT_TRUE(chunk) << i;
    arrivals.push_back(Clock::now());
    EXPECT_EQ(*chunk, "{\"token\":" + std::to_string(i) + "}\n");
  }
  EXPECT_FALSE(c.read_chunk());  // the last chunk
  // Each chunk came when it was written, not all at the end.
  EXPECT_GE(arrivals.back() - arrivals.front(), 300ms);
  EXPECT_GE(arrivals.front() - t_head, 50ms);
  // And the connection is reusable afterwards.
  ASSERT_TRUE(c.send(make_request("GET", "/nope")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST(Streaming, ServerSentEvents) {
  ServerHarness h;
  h.server().route("POST", "/v1/chat/completions", [](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->start(200, "text/event-stream", {{"Cache-Control", "no-cache"}}, /*chunked=*/true);
    w->write(sse_event("{\"delta\":\"hi\"}"));
    w->write(sse_event("[DONE]"));
    w->finish();
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("POST", "/v1/chat/completions", "{}")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Content-Type"), "text/event-stream");
  EXPECT_EQ(r->header("Cache-Control"), "no-cache");
  EXPECT_EQ(r->body, "data: {\"delta\":\"hi\"}\n\ndata: [DONE]\n\n");
}

TEST(Streaming, ContentLengthResponseFromAWorker) {
  Workers workers;
  ServerHarness h;
  h.server().route("GET", "/api/tags", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    workers.spawn([w] {
      std::this_thread::sleep_for(50ms);
      w->start(200, "application/json");
      w->write("{\"models\":");
      w->write("[]}");
      w->finish();
    });
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/tags")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Content-Length"), "13");
  EXPECT_FALSE(r->has_header("Transfer-Encoding"));
  EXPECT_EQ(r->body, "{\"models\":[]}");
}

TEST(Streaming, Http10StreamEndsWithClose) {
  ServerHarness h;
  h.server().route("GET", "/s", [](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->start(200, "text/plain", {}, /*chunked=*/true);
    w->write("a");
    w->write("b");
    w->finish();
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send("GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Transfer-Encoding"));
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_EQ(r->body, "ab");
}

// The scheduler-queue case: the request waits with nothing written, and the client gives up.
void expect_pending_disconnect_detected(bool reset) {
  ServerHarness h;
  WriterSlot slot;
  std::promise<Clock::time_point> gone_at;
  h.server().route("POST", "/api/chat", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->on_client_gone([&gone_at] { gone_at.set_value(Clock::now()); });
    slot.put(w);  // "queued": nobody answers yet
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("POST", "/api/chat", "{}")));
  auto w = slot.wait();
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->client_gone());
  auto gone = gone_at.get_future();
  auto t_close = Clock::now();
  if (reset) c.reset();
  else c.close();
  ASSERT_EQ(gone.wait_for(2s), std::future_status::ready);
  auto latency = gone.get() - t_close;
  EXPECT_LT(latency, 100ms) << std::chrono::duration_cast<std::chrono::microseconds>(latency).count() << " us";
  EXPECT_TRUE(w->client_gone());
  w->start(200, "application/json");
  EXPECT_FALSE(w->write("too late"));
  w->finish();
  // A callback registered after the fact runs at once.
  bool ran = false;
  w->on_client_gone([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(Streaming, ClientCloseWhilePendingFiresOnClientGone) { expect_pending_disconnect_detected(false); }
TEST(Streaming, ClientResetWhilePendingFiresOnClientGone) { expect_pending_disconnect_detected(true); }

TEST(Streaming, ClientCloseMidStreamStopsTheProducer) {
  Workers workers;
  ServerHarness h;
  std::promise<Clock::time_point> gone_at;
  std::promise<int> writes_after_gone;
  h.server().route("POST", "/api/generate", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    w->on_client_gone([&gone_at] { gone_at.set_value(Clock::now()); });
    workers.spawn([w, &writes_after_gone] {
      w->start(200, "application/x-ndjson", {}, true);
      // Like a generation loop: one token per step until the client is gone.
      int i = 0;
      while (w->write("{\"i\":" + std::to_string(i++) + "}\n")) std::this_thread::sleep_for(5ms);
      writes_after_gone.set_value(i);
      w->finish();
    });
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("POST", "/api/generate", "{}")));
  ASSERT_TRUE(c.read_head());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.read_chunk());
  auto t_close = Clock::now();
  c.close();
  auto gone = gone_at.get_future();
  ASSERT_EQ(gone.wait_for(2s), std::future_status::ready);
  EXPECT_LT(gone.get() - t_close, 100ms);
  auto stopped = writes_after_gone.get_future();
  EXPECT_EQ(stopped.wait_for(2s), std::future_status::ready);
}

TEST(Streaming, PipelinedRequestWaitsForThePendingResponse) {
  Workers workers;
  ServerHarness h;
  h.server().route("POST", "/slow", [&](Request req, std::shared_ptr<ResponseWriter> w) {
    workers.spawn([w, body = std::move(req.body)] {
      std::this_thread::sleep_for(150ms);
      w->respond(200, "text/plain", "slow:" + body);
    });
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  // The second request arrives while the first is pending: its bytes must be kept, and the
  // disconnect watch must not mistake them for anything else.
  ASSERT_TRUE(c.send(make_request("POST", "/slow", "1") + make_request("POST", "/slow", "2")));
  auto r1 = c.read_response();
  auto r2 = c.read_response();
  ASSERT_TRUE(r1);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r1->body, "slow:1");
  EXPECT_EQ(r2->body, "slow:2");
}

TEST(Streaming, SlowReaderDoesNotBlockTheProducer) {
  Workers workers;
  ServerHarness h;
  constexpr size_t kPiece = 1024, kPieces = 16 * 1024;  // 16 MiB: far beyond socket buffers
  std::promise<size_t> queued_when_done;
  h.server().route("GET", "/big", [&](const Request&, std::shared_ptr<ResponseWriter> w) {
    workers.spawn([w, &queued_when_done] {
      w->start(200, "application/octet-stream", {}, true);
      for (size_t i = 0; i < kPieces; ++i) w->write(std::string(kPiece, static_cast<char>('a' + i % 26)));
      queued_when_done.set_value(w->queued_bytes());
      w->finish();
    });
  });
  ASSERT_TRUE(h.start());
  TestClient c(h.port());
  ASSERT_TRUE(c.send(make_request("GET", "/big")));
  // Not reading yet: the producer must still finish promptly, leaving bytes queued.
  auto done = queued_when_done.get_future();
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  EXPECT_GT(done.get(), 1u << 20);
  auto r = c.read_response(false, 20s);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->body.size(), kPiece * kPieces);
  for (size_t i = 0; i < kPieces; i += 997) ASSERT_EQ(r->body[i * kPiece], static_cast<char>('a' + i % 26)) << i;
  EXPECT_EQ(r->chunks.size(), kPieces);  // one chunk per write(), however the bytes were batched
}

}  // namespace
}  // namespace corral::http::testing
