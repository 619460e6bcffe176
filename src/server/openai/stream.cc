#include "server/openai/stream.h"

#include "server/http/response_writer.h"
#include "server/openai/common.h"

namespace corral::server::openai {
namespace {

std::string event(const ordered_json& j) {
  return http::sse_event(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

class OpenAiProtocol final : public CompletionProtocol {
 public:
  explicit OpenAiProtocol(ResponseInfo info) : info_(std::move(info)) {}

  const ErrorShape& errors() const override { return kErrors; }
  std::string stream_content_type() const override { return "text/event-stream"; }

  std::string chunk(const CompletionOutput& piece, int choice) override {
    return event(stream_chunk(piece, nullptr, choice));
  }

  // Each choice's last chunk carries its finish_reason; then the usage (when asked) and [DONE].
  std::string stream_end(const std::vector<FinishedChoice>& choices) override {
    std::string out;
    for (size_t i = 0; i < choices.size(); ++i)
      out += event(stream_chunk(CompletionOutput{}, finish(choices[i]), static_cast<int>(i)));
    if (info_.include_usage) {
      ordered_json last = envelope(stream_object());
      last["choices"] = ordered_json::array();
      last["usage"] = total_usage(choices);
      out += event(last);
    }
    return out + http::sse_event("[DONE]");
  }

  std::string stream_error(const std::string& message) override { return event(error_body(500, message)); }

  ordered_json body(const std::vector<FinishedChoice>& choices) override {
    ordered_json j = envelope(info_.kind == ResponseInfo::Kind::kChat ? "chat.completion" : "text_completion");
    j["choices"] = ordered_json::array();
    for (size_t i = 0; i < choices.size(); ++i)
      j["choices"].push_back(choice(choices[i].output, finish(choices[i]), /*delta=*/false, static_cast<int>(i)));
    j["usage"] = total_usage(choices);
    return j;
  }

 private:
  const char* stream_object() const {
    return info_.kind == ResponseInfo::Kind::kChat ? "chat.completion.chunk" : "text_completion";
  }

  ordered_json envelope(const char* object) const {
    return ordered_json{{"id", info_.id},
                        {"object", object},
                        {"created", info_.created},
                        {"model", info_.model},
                        {"system_fingerprint", "fp_corral"}};
  }

  // "tool_calls" when the model called tools (OpenAI), else why generation stopped.
  static const char* finish(const FinishedChoice& c) {
    return c.output.tool_calls.empty() ? finish_reason(c.done.done_reason) : "tool_calls";
  }

  // OpenAI counts the prompt once however many choices share it, and every choice's tokens.
  static ordered_json total_usage(const std::vector<FinishedChoice>& choices) {
    scheduler::JobStats total = choices.front().done.stats;
    total.eval_count = 0;
    for (const FinishedChoice& c : choices) total.eval_count += c.done.stats.eval_count;
    return usage(total);
  }

  // A chat message (or, streaming, its delta): content, the reasoning under both names clients
  // read (Ollama's "reasoning"; "reasoning_content" as vLLM and DeepSeek send it), tool calls
  // with their arguments as a JSON string.
  static ordered_json message(const CompletionOutput& out, bool delta) {
    ordered_json m{{"role", "assistant"}};
    // OpenAI: a reply that only calls tools has "content": null.
    if (!delta && out.content.empty() && !out.tool_calls.empty()) m["content"] = nullptr;
    else if (!delta || !out.content.empty() || (out.thinking.empty() && out.tool_calls.empty()))
      m["content"] = out.content;
    if (!out.thinking.empty()) {
      m["reasoning"] = out.thinking;
      m["reasoning_content"] = out.thinking;
    }
    if (!out.tool_calls.empty()) {
      ordered_json calls = ordered_json::array();
      for (const OutputToolCall& c : out.tool_calls) {
        ordered_json call;
        if (delta) call["index"] = c.call.index;
        call["id"] = c.id;
        call["type"] = "function";
        call["function"] = ordered_json{{"name", c.call.name}, {"arguments", c.call.arguments.dump()}};
        calls.push_back(std::move(call));
      }
      m["tool_calls"] = std::move(calls);
    }
    return m;
  }

  // One choice: a chat message (or, streaming, its delta) or a text completion's text.
  // finish: null while streaming pieces.
  static ordered_json token_bytes(const std::string& text) {
    ordered_json bytes = ordered_json::array();
    for (unsigned char c : text) bytes.push_back(static_cast<int>(c));
    return bytes;
  }

  // Chat: {"content": [{token, logprob, bytes, top_logprobs: [...]}], "refusal": null}. The
  // legacy completions: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset},
  // offsets counted over the whole text (streamed chunks continue the count).
  ordered_json logprobs(const std::vector<engine::TokenLogprob>& tokens, int index) {
    if (info_.kind == ResponseInfo::Kind::kChat) {
      ordered_json content = ordered_json::array();
      for (const engine::TokenLogprob& t : tokens) {
        ordered_json top = ordered_json::array();
        for (const engine::TokenLogprob& a : t.top)
          top.push_back(ordered_json{{"token", a.text}, {"logprob", a.logprob}, {"bytes", token_bytes(a.text)}});
        content.push_back(ordered_json{
            {"token", t.text}, {"logprob", t.logprob}, {"bytes", token_bytes(t.text)}, {"top_logprobs", top}});
      }
      return ordered_json{{"content", content}, {"refusal", nullptr}};
    }
    ordered_json j{{"tokens", ordered_json::array()},
                   {"token_logprobs", ordered_json::array()},
                   {"top_logprobs", ordered_json::array()},
                   {"text_offset", ordered_json::array()}};
    for (const engine::TokenLogprob& t : tokens) {
      j["tokens"].push_back(t.text);
      j["token_logprobs"].push_back(t.logprob);
      ordered_json top = ordered_json::object();
      for (const engine::TokenLogprob& a : t.top) top[a.text] = a.logprob;
      j["top_logprobs"].push_back(std::move(top));
      if (text_offset_.size() <= static_cast<size_t>(index)) text_offset_.resize(static_cast<size_t>(index) + 1);
      int64_t& offset = text_offset_[static_cast<size_t>(index)];
      j["text_offset"].push_back(offset);
      offset += static_cast<int64_t>(t.text.size());
    }
    return j;
  }

  ordered_json choice(const CompletionOutput& out, const char* finish, bool delta, int index) {
    ordered_json c{{"index", index}};
    if (info_.kind == ResponseInfo::Kind::kChat) c[delta ? "delta" : "message"] = message(out, delta);
    else c["text"] = out.content;
    c["logprobs"] = out.logprobs.empty() ? ordered_json(nullptr) : logprobs(out.logprobs, index);
    c["finish_reason"] = finish ? ordered_json(finish) : ordered_json(nullptr);
    return c;
  }

  ordered_json stream_chunk(const CompletionOutput& piece, const char* finish, int index) {
    ordered_json j = envelope(stream_object());
    j["choices"] = ordered_json::array({choice(piece, finish, /*delta=*/true, index)});
    if (info_.include_usage) j["usage"] = nullptr;
    return j;
  }

  ResponseInfo info_;
  std::vector<int64_t> text_offset_;  // the legacy completions' logprobs: bytes of text so far, per choice
};

}  // namespace

std::unique_ptr<CompletionProtocol> make_protocol(ResponseInfo info) {
  return std::make_unique<OpenAiProtocol>(std::move(info));
}

void submit_completion(ApiContext& ctx, const ServedModel& m, std::vector<ChoiceJob> choices, ResponseInfo info,
                       bool stream, const Writer& w) {
  const int n = static_cast<int>(choices.size());
  auto cs = std::make_shared<CompletionStream>(w, stream, make_protocol(std::move(info)), n);
  for (int i = 0; i < n; ++i) {
    read_output_with(*cs, *choices[i].job, std::move(choices[i].reading), i);
    attach(choices[i].job, w, cs, i);
  }
  // Submitted together: the engine prefills their shared prompt once (prefill_sharing.h).
  for (const ChoiceJob& c : choices) {
    if (auto rej = ctx.scheduler.submit(m.spec, c.job, std::nullopt)) {
      cs->reject(*rej);
      return;
    }
  }
}

}  // namespace corral::server::openai
