#include "parsers/json_calls.h"

#include <utility>

#include "parsers/limits.h"
#include "parsers/markers.h"

namespace corral::parsers {

using nlohmann::json;

JsonExtentScanner::State JsonExtentScanner::fail(std::string message) {
  error_ = std::move(message);
  state_ = State::kInvalid;
  return state_;
}

JsonExtentScanner::State JsonExtentScanner::scan(std::string_view text) {
  if (state_ != State::kIncomplete) return state_;
  for (; pos_ < text.size(); ++pos_) {
    if (pos_ >= kMaxToolCallBytes) {
      return fail("tool call is longer than " + std::to_string(kMaxToolCallBytes) + " bytes");
    }
    char c = text[pos_];
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      if (closers_.empty()) return fail("tool call JSON does not start with '{' or '['");
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (closers_.size() >= kMaxJsonDepth) {
        return fail("tool call JSON nests deeper than " + std::to_string(kMaxJsonDepth));
      }
      closers_.push_back(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      if (closers_.empty() || closers_.back() != c) {
        return fail(std::string("unbalanced '") + c + "' in tool call JSON");
      }
      closers_.pop_back();
      if (closers_.empty()) {
        end_ = pos_ + 1;
        state_ = State::kComplete;
        return state_;
      }
    } else if (closers_.empty()) {
      return fail("tool call JSON does not start with '{' or '['");
    }
  }
  return state_;
}

Result<json> parse_json_bounded(std::string_view text) {
  std::string_view body = trim(text);
  if (body.empty()) return Status::error("empty JSON");
  if (body.front() == '{' || body.front() == '[') {
    JsonExtentScanner scanner;
    auto state = scanner.scan(body);
    if (state == JsonExtentScanner::State::kInvalid) return Status::error(scanner.error());
    if (state == JsonExtentScanner::State::kIncomplete) return Status::error("unterminated JSON");
    if (scanner.end() != body.size()) return Status::error("text after the JSON value");
  } else if (body.size() > kMaxToolCallBytes) {
    return Status::errorf("JSON is longer than {} bytes", kMaxToolCallBytes);
  }
  // Scalars cannot nest, containers were depth-checked: the parse below is bounded.
  json value = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Status::error("invalid JSON");
  return value;
}

namespace {

Result<json> arguments_object(const json* args) {
  if (args == nullptr || args->is_null()) return json::object();
  if (args->is_object()) return *args;
  if (args->is_string()) {
    // OpenAI-style arguments: a string holding the JSON object.
    const std::string& s = args->get_ref<const std::string&>();
    if (trim(s).empty()) return json::object();
    auto parsed = parse_json_bounded(s);
    if (!parsed) return Status::error("arguments: " + parsed.error());
    if (parsed->is_object()) return std::move(parsed).value();
  }
  return Status::error("arguments are not a JSON object");
}

Result<ToolCall> call_from_object(const json& value) {
  if (!value.is_object()) return Status::error("tool call is not a JSON object");
  const json* obj = &value;
  auto fn = value.find("function");
  if (fn != value.end() && fn->is_object() && !value.contains("name")) obj = &*fn;
  auto name = obj->find("name");
  if (name == obj->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return Status::error("tool call has no function name");
  }
  const json* args = nullptr;
  for (const char* key : {"arguments", "parameters"}) {
    auto it = obj->find(key);
    if (it != obj->end()) {
      args = &*it;
      break;
    }
  }
  CORRAL_ASSIGN_OR_RETURN(json arguments, arguments_object(args));
  ToolCall call;
  call.name = name->get<std::string>();
  call.arguments = std::move(arguments);
  return call;
}

}  // namespace

Result<std::vector<ToolCall>> calls_from_json(const json& value) {
  std::vector<ToolCall> calls;
  if (value.is_array()) {
    if (value.empty()) return Status::error("empty tool call list");
    for (const json& item : value) {
      CORRAL_ASSIGN_OR_RETURN(ToolCall call, call_from_object(item));
      calls.push_back(std::move(call));
    }
    return calls;
  }
  CORRAL_ASSIGN_OR_RETURN(ToolCall call, call_from_object(value));
  calls.push_back(std::move(call));
  return calls;
}

Result<ToolCall> call_from_parts(std::string_view name, std::string_view arguments_json) {
  std::string_view n = trim(name);
  if (n.empty()) return Status::error("tool call has no function name");
  CORRAL_ASSIGN_OR_RETURN(json args, parse_json_bounded(arguments_json));
  if (!args.is_object()) return Status::error("arguments are not a JSON object");
  ToolCall call;
  call.name = std::string(n);
  call.arguments = std::move(args);
  return call;
}

}  // namespace corral::parsers
