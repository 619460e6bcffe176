#include "server/openai/responses_stream.h"

#include <chrono>
#include <random>
#include <utility>

#include <fmt/format.h>

#include "server/http/response_writer.h"
#include "server/openai/common.h"

namespace corral::server::openai {
namespace {

// Tool-call arguments as the JSON string OpenAI sends (invalid UTF-8 becomes U+FFFD).
std::string dump(const nlohmann::json& j) { return json_text(j); }

int64_t now_seconds() { return unix_seconds(std::chrono::system_clock::now()); }

ordered_json text_part(const std::string& text) {
  return ordered_json{{"type", "output_text"},
                      {"text", text},
                      {"annotations", ordered_json::array()},
                      {"logprobs", ordered_json::array()}};
}

ordered_json summary_part(const std::string& text) { return ordered_json{{"type", "summary_text"}, {"text", text}}; }

ordered_json reasoning_item(const std::string& id, const std::string& text) {
  return ordered_json{{"id", id},
                      {"type", "reasoning"},
                      {"summary", ordered_json::array({summary_part(text)})},
                      {"encrypted_content", text}};
}

ordered_json message_item(const std::string& id, const std::string& text, const char* status) {
  return ordered_json{{"id", id},
                      {"type", "message"},
                      {"status", status},
                      {"role", "assistant"},
                      {"content", ordered_json::array({text_part(text)})}};
}

ordered_json function_call_item(const std::string& id, const OutputToolCall& c, const char* status,
                                const std::string& arguments) {
  return ordered_json{{"id", id},        {"type", "function_call"}, {"status", status},
                      {"call_id", c.id}, {"name", c.call.name},     {"arguments", arguments}};
}

ordered_json response_usage(const scheduler::JobStats& s) {
  return ordered_json{{"input_tokens", s.prompt_tokens},
                      {"input_tokens_details", {{"cached_tokens", s.cached_tokens}}},
                      {"output_tokens", s.eval_count},
                      // Reasoning is not counted apart from the answer yet.
                      {"output_tokens_details", {{"reasoning_tokens", 0}}},
                      {"total_tokens", s.prompt_tokens + s.eval_count}};
}

bool incomplete(const scheduler::JobEvent& done) { return done.done_reason == scheduler::DoneReason::kLength; }

class ResponsesProtocol final : public CompletionProtocol {
 public:
  explicit ResponsesProtocol(ordered_json response) : response_(std::move(response)) {}

  const ErrorShape& errors() const override { return kErrors; }
  std::string stream_content_type() const override { return "text/event-stream"; }

  std::string chunk(const CompletionOutput& piece, int) override {
    std::string out = start();
    if (!piece.thinking.empty()) {
      out += open(Item::kReasoning);
      open_text_ += piece.thinking;
      out += event(
          "response.reasoning_summary_text.delta",
          {{"item_id", open_id_}, {"output_index", open_index_}, {"summary_index", 0}, {"delta", piece.thinking}});
    }
    if (!piece.content.empty()) {
      out += open(Item::kMessage);
      open_text_ += piece.content;
      out += event("response.output_text.delta", {{"item_id", open_id_},
                                                  {"output_index", open_index_},
                                                  {"content_index", 0},
                                                  {"delta", piece.content},
                                                  {"logprobs", ordered_json::array()}});
    }
    for (const OutputToolCall& c : piece.tool_calls) out += function_call(c);
    return out;
  }

  // A response has one choice.
  std::string stream_end(const std::vector<FinishedChoice>& choices) override {
    const scheduler::JobEvent& done = choices.front().done;
    const CompletionOutput& streamed = choices.front().output;
    std::string out = start();
    // Every answer has a message item unless the model only called tools (as the body does).
    if (!message_sent_ && streamed.tool_calls.empty()) out += open(Item::kMessage);
    out += close(incomplete(done) ? "incomplete" : "completed");
    ordered_json r = response(incomplete(done) ? "incomplete" : "completed", output_, &done);
    return out + event(incomplete(done) ? "response.incomplete" : "response.completed", {{"response", r}});
  }

  std::string stream_error(const std::string& message) override {
    std::string out = start();
    // OpenAI's error event carries code/message/param at the top; the openai SDK raises on a
    // top-level `error` object and @ai-sdk/openai reads it nested, so both are sent.
    return out +
           event("error",
                 {{"code", "server_error"},
                  {"message", message},
                  {"param", nullptr},
                  {"error",
                   {{"type", "server_error"}, {"code", "server_error"}, {"message", message}, {"param", nullptr}}}});
  }

  ordered_json body(const std::vector<FinishedChoice>& choices) override {
    const scheduler::JobEvent& done = choices.front().done;
    const CompletionOutput& full = choices.front().output;
    ordered_json output = ordered_json::array();
    if (!full.thinking.empty()) output.push_back(reasoning_item(random_id("rs"), full.thinking));
    if (!full.content.empty() || full.tool_calls.empty())
      output.push_back(message_item(random_id("msg"), full.content, incomplete(done) ? "incomplete" : "completed"));
    for (const OutputToolCall& c : full.tool_calls)
      output.push_back(function_call_item(random_id("fc"), c, "completed", dump(c.call.arguments)));
    return response(incomplete(done) ? "incomplete" : "completed", std::move(output), &done);
  }

 private:
  enum class Item { kNone, kReasoning, kMessage };

  // The response object in a state: status, its output so far, and (once done) usage.
  ordered_json response(const char* status, ordered_json output, const scheduler::JobEvent* done) const {
    ordered_json r = response_;
    r["status"] = status;
    r["output"] = std::move(output);
    if (done) {
      r["completed_at"] = now_seconds();
      if (incomplete(*done)) r["incomplete_details"] = ordered_json{{"reason", "max_output_tokens"}};
      r["usage"] = response_usage(done->stats);
    }
    return r;
  }

  std::string event(const char* type, ordered_json fields) {
    ordered_json j{{"type", type}, {"sequence_number", sequence_++}};
    for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = std::move(it.value());
    return http::sse_event(json_text(j), type);
  }

  // response.created and response.in_progress, once, before anything else.
  std::string start() {
    if (started_) return "";
    started_ = true;
    ordered_json r = response("in_progress", ordered_json::array(), nullptr);
    std::string out = event("response.created", {{"response", r}});
    return out + event("response.in_progress", {{"response", r}});
  }

  // Makes `kind` the open item, closing another one first.
  std::string open(Item kind) {
    if (open_ == kind) return "";
    std::string out = close("completed");
    open_ = kind;
    open_id_ = random_id(kind == Item::kReasoning ? "rs" : "msg");
    open_index_ = static_cast<int>(output_.size());
    open_text_.clear();
    if (kind == Item::kReasoning) {
      out += event("response.output_item.added",
                   {{"output_index", open_index_},
                    {"item", {{"id", open_id_}, {"type", "reasoning"}, {"summary", ordered_json::array()}}}});
      out += event(
          "response.reasoning_summary_part.added",
          {{"item_id", open_id_}, {"output_index", open_index_}, {"summary_index", 0}, {"part", summary_part("")}});
    } else {
      message_sent_ = true;
      out += event("response.output_item.added", {{"output_index", open_index_},
                                                  {"item",
                                                   {{"id", open_id_},
                                                    {"type", "message"},
                                                    {"status", "in_progress"},
                                                    {"role", "assistant"},
                                                    {"content", ordered_json::array()}}}});
      out +=
          event("response.content_part.added",
                {{"item_id", open_id_}, {"output_index", open_index_}, {"content_index", 0}, {"part", text_part("")}});
    }
    return out;
  }

  // Ends the open item (if any) with its done events; it joins the output.
  std::string close(const char* message_status) {
    const Item kind = std::exchange(open_, Item::kNone);
    if (kind == Item::kNone) return "";
    std::string out;
    ordered_json item;
    if (kind == Item::kReasoning) {
      out += event("response.reasoning_summary_text.done",
                   {{"item_id", open_id_}, {"output_index", open_index_}, {"summary_index", 0}, {"text", open_text_}});
      out += event("response.reasoning_summary_part.done", {{"item_id", open_id_},
                                                            {"output_index", open_index_},
                                                            {"summary_index", 0},
                                                            {"part", summary_part(open_text_)}});
      item = reasoning_item(open_id_, open_text_);
    } else {
      out += event("response.output_text.done", {{"item_id", open_id_},
                                                 {"output_index", open_index_},
                                                 {"content_index", 0},
                                                 {"text", open_text_},
                                                 {"logprobs", ordered_json::array()}});
      out += event("response.content_part.done", {{"item_id", open_id_},
                                                  {"output_index", open_index_},
                                                  {"content_index", 0},
                                                  {"part", text_part(open_text_)}});
      item = message_item(open_id_, open_text_, message_status);
    }
    out += event("response.output_item.done", {{"output_index", open_index_}, {"item", item}});
    output_.push_back(std::move(item));
    return out;
  }

  // A call is whole when the parser hands it over: all of its events at once.
  std::string function_call(const OutputToolCall& c) {
    std::string out = close("completed");
    const std::string id = random_id("fc");
    const int index = static_cast<int>(output_.size());
    const std::string arguments = dump(c.call.arguments);
    out += event("response.output_item.added",
                 {{"output_index", index}, {"item", function_call_item(id, c, "in_progress", "")}});
    out += event("response.function_call_arguments.delta",
                 {{"item_id", id}, {"output_index", index}, {"delta", arguments}});
    out += event("response.function_call_arguments.done",
                 {{"item_id", id}, {"output_index", index}, {"name", c.call.name}, {"arguments", arguments}});
    ordered_json item = function_call_item(id, c, "completed", arguments);
    out += event("response.output_item.done", {{"output_index", index}, {"item", item}});
    output_.push_back(std::move(item));
    return out;
  }

  const ordered_json response_;
  int64_t sequence_ = 0;
  bool started_ = false;
  bool message_sent_ = false;
  ordered_json output_ = ordered_json::array();  // the items finished so far
  Item open_ = Item::kNone;                      // the item whose deltas are streaming
  std::string open_id_;
  int open_index_ = 0;
  std::string open_text_;  // the open item's text so far
};

}  // namespace

std::string random_id(std::string_view prefix) {
  thread_local std::mt19937_64 rng{(uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()};
  return fmt::format("{}_{:016x}{:016x}", prefix, rng(), rng());
}

std::unique_ptr<CompletionProtocol> make_responses_protocol(ordered_json response) {
  return std::make_unique<ResponsesProtocol>(std::move(response));
}

}  // namespace corral::server::openai
