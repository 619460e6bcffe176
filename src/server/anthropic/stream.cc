#include "server/anthropic/stream.h"

#include <algorithm>

#include "server/anthropic/common.h"
#include "server/http/response_writer.h"

namespace corral::server::anthropic {
namespace {

std::string event(const char* name, const ordered_json& j) {
  return http::sse_event(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), name);
}

// Blocks of one kind that streamed pieces extend (a tool call is a block of its own).
enum class Block { kNone, kText, kThinking };

class AnthropicProtocol final : public CompletionProtocol {
 public:
  explicit AnthropicProtocol(ResponseInfo info) : info_(std::move(info)) {}

  const ErrorShape& errors() const override { return kErrors; }
  std::string stream_content_type() const override { return "text/event-stream"; }

  std::string chunk(const CompletionOutput& piece, int) override {
    std::string out = start_message();
    if (!piece.thinking.empty()) out += delta(Block::kThinking, piece.thinking);
    if (!piece.content.empty()) out += delta(Block::kText, piece.content);
    for (const OutputToolCall& c : piece.tool_calls) {
      out += close_block();
      ordered_json block = tool_use(c);
      const std::string input = block["input"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      block["input"] = ordered_json::object();  // the input arrives as input_json_delta
      out += event("content_block_start",
                   ordered_json{{"type", "content_block_start"}, {"index", index_}, {"content_block", block}});
      out += event("content_block_delta",
                   ordered_json{{"type", "content_block_delta"},
                                {"index", index_},
                                {"delta", {{"type", "input_json_delta"}, {"partial_json", input}}}});
      out += event("content_block_stop", ordered_json{{"type", "content_block_stop"}, {"index", index_}});
      ++index_;
    }
    return out;
  }

  // Anthropic's Messages have one choice.
  std::string stream_end(const std::vector<FinishedChoice>& choices) override {
    const scheduler::JobEvent& done = choices.front().done;
    const CompletionOutput& streamed = choices.front().output;
    std::string out = start_message() + close_block();
    ordered_json d = stop_fields(done, streamed);
    out +=
        event("message_delta",
              ordered_json{
                  {"type", "message_delta"},
                  {"delta", std::move(d)},
                  {"usage", {{"input_tokens", done.stats.prompt_tokens}, {"output_tokens", done.stats.eval_count}}}});
    return out + event("message_stop", ordered_json{{"type", "message_stop"}});
  }

  std::string stream_error(const std::string& message) override { return event("error", error_body(500, message)); }

  ordered_json body(const std::vector<FinishedChoice>& choices) override {
    const scheduler::JobEvent& done = choices.front().done;
    const CompletionOutput& full = choices.front().output;
    ordered_json content = ordered_json::array();
    if (!full.thinking.empty()) content.push_back(thinking_block(full.thinking));
    if (!full.content.empty()) content.push_back(ordered_json{{"type", "text"}, {"text", full.content}});
    for (const OutputToolCall& c : full.tool_calls) content.push_back(tool_use(c));
    ordered_json j = message(std::move(content));
    ordered_json stop = stop_fields(done, full);
    for (const auto& [k, v] : stop.items()) j[k] = v;
    j["usage"] = {{"input_tokens", done.stats.prompt_tokens}, {"output_tokens", done.stats.eval_count}};
    return j;
  }

 private:
  ordered_json message(ordered_json content) const {
    return ordered_json{{"id", info_.id},
                        {"type", "message"},
                        {"role", "assistant"},
                        {"model", info_.model},
                        {"content", std::move(content)},
                        {"stop_reason", nullptr},
                        {"stop_sequence", nullptr},
                        {"stop_details", nullptr}};
  }

  // Anthropic's thinking block carries a signature (an opaque check of Anthropic's own); a local
  // model's reasoning has none, so it is empty (Ollama leaves the field out; the SDK's type
  // wants a string).
  static ordered_json thinking_block(const std::string& text) {
    return ordered_json{{"type", "thinking"}, {"thinking", text}, {"signature", ""}};
  }

  static ordered_json tool_use(const OutputToolCall& c) {
    return ordered_json{
        {"type", "tool_use"},
        {"id", tool_use_id(c.id)},
        {"name", c.call.name},
        {"input", c.call.arguments.is_object() ? ordered_json(c.call.arguments) : ordered_json::object()}};
  }

  // stop_reason (tool_use when the model called tools, as Ollama maps it; max_tokens at the
  // limit; stop_sequence when one of the request's stop_sequences ended it; else end_turn) and
  // stop_sequence.
  ordered_json stop_fields(const scheduler::JobEvent& done, const CompletionOutput& out) const {
    const bool user_stop = !done.stop_sequence.empty() &&
                           std::find(info_.stop_sequences.begin(), info_.stop_sequences.end(), done.stop_sequence) !=
                               info_.stop_sequences.end();
    const char* reason = !out.tool_calls.empty()                              ? "tool_use"
                         : done.done_reason == scheduler::DoneReason::kLength ? "max_tokens"
                         : user_stop                                          ? "stop_sequence"
                                                                              : "end_turn";
    return ordered_json{{"stop_reason", reason},
                        {"stop_sequence", user_stop ? ordered_json(done.stop_sequence) : ordered_json(nullptr)},
                        {"stop_details", nullptr}};
  }

  // message_start and a ping (as Anthropic sends one), once.
  std::string start_message() {
    if (started_) return "";
    started_ = true;
    ordered_json m = message(ordered_json::array());
    m["usage"] = {{"input_tokens", info_.input_tokens}, {"output_tokens", 0}};
    return event("message_start", ordered_json{{"type", "message_start"}, {"message", std::move(m)}}) +
           event("ping", ordered_json{{"type", "ping"}});
  }

  // Ends the open text or thinking block, if any.
  std::string close_block() {
    if (open_ == Block::kNone) return "";
    open_ = Block::kNone;
    return event("content_block_stop", ordered_json{{"type", "content_block_stop"}, {"index", index_++}});
  }

  // Extends the open block of `kind` with `text`, opening one (and closing another) first.
  std::string delta(Block kind, const std::string& text) {
    std::string out;
    if (open_ != kind) {
      out += close_block();
      open_ = kind;
      ordered_json block = kind == Block::kText ? ordered_json{{"type", "text"}, {"text", ""}} : thinking_block("");
      out += event("content_block_start",
                   ordered_json{{"type", "content_block_start"}, {"index", index_}, {"content_block", block}});
    }
    ordered_json d = kind == Block::kText ? ordered_json{{"type", "text_delta"}, {"text", text}}
                                          : ordered_json{{"type", "thinking_delta"}, {"thinking", text}};
    return out + event("content_block_delta",
                       ordered_json{{"type", "content_block_delta"}, {"index", index_}, {"delta", std::move(d)}});
  }

  ResponseInfo info_;
  bool started_ = false;
  Block open_ = Block::kNone;
  int index_ = 0;  // the open block's index, or the next block's
};

}  // namespace

std::unique_ptr<CompletionProtocol> make_protocol(ResponseInfo info) {
  return std::make_unique<AnthropicProtocol>(std::move(info));
}

void submit_message(ApiContext& ctx, const ServedModel& m, const std::shared_ptr<scheduler::Job>& job,
                    ResponseInfo info, bool stream, const Writer& w, OutputReading reading) {
  auto cs = std::make_shared<CompletionStream>(w, stream, make_protocol(std::move(info)));
  read_output_with(*cs, *job, std::move(reading));
  attach(job, w, cs);
  if (auto rej = ctx.scheduler.submit(m.spec, job, std::nullopt)) respond_rejection(w, kErrors, *rej);
}

}  // namespace corral::server::anthropic
