#include "parsers/template_hints.h"

#include <cctype>
#include <vector>

#include "parsers/markers.h"

namespace corral::parsers {
namespace {

struct Node {
  bool action = false;
  std::string_view text;  // text node: the text; action: its body without delimiters/trim marks
};

// Splits template text into text and {{ action }} nodes; comments are dropped.
std::vector<Node> lex(std::string_view t) {
  std::vector<Node> nodes;
  std::size_t pos = 0;
  while (pos < t.size()) {
    std::size_t open = t.find("{{", pos);
    if (open == std::string_view::npos) {
      nodes.push_back({false, t.substr(pos)});
      break;
    }
    if (open > pos) nodes.push_back({false, t.substr(pos, open - pos)});
    std::size_t body = open + 2;
    bool comment = t.substr(body).starts_with("/*") || t.substr(body).starts_with("- /*");
    std::size_t close = comment ? t.find("*/", body) : t.find("}}", body);
    if (close != std::string_view::npos && comment) close = t.find("}}", close);
    if (close == std::string_view::npos) break;  // unterminated action: the rest is not text
    std::string_view b = trim(t.substr(body, close - body));
    if (b.starts_with('-')) b = trim(b.substr(1));
    if (b.ends_with('-')) b = trim(b.substr(0, b.size() - 1));
    if (!comment) nodes.push_back({true, b});
    pos = close + 2;
  }
  return nodes;
}

std::string_view first_word(std::string_view s) {
  s = trim_left(s);
  std::size_t n = 0;
  while (n < s.size() && !is_space(s[n])) ++n;
  return s.substr(0, n);
}

bool is_control(std::string_view body) {
  std::string_view w = first_word(body);
  return w == "if" || w == "else" || w == "end" || w == "range" || w == "with" || w == "define" || w == "block" ||
         w == "template" || w == "break" || w == "continue";
}

// Whether `body` names the field (".Field", "$.Field", "$m.Field"), not a longer name.
bool mentions_field(std::string_view body, std::string_view field) {
  std::size_t p = 0;
  while ((p = body.find(field, p)) != std::string_view::npos) {
    std::size_t end = p + field.size();
    bool whole = p > 0 && body[p - 1] == '.' &&
                 (end == body.size() || !(std::isalnum(static_cast<unsigned char>(body[end])) || body[end] == '_'));
    if (whole) return true;
    p = end;
  }
  return false;
}

}  // namespace

std::string tool_call_tag(std::string_view tmpl) {
  std::vector<Node> nodes = lex(tmpl);
  std::size_t i = 0;
  for (; i < nodes.size(); ++i) {
    if (!nodes[i].action) continue;
    std::string_view w = first_word(nodes[i].text);
    if ((w == "if" || w == "else" || w == "range" || w == "with") && mentions_field(nodes[i].text, "ToolCalls")) {
      break;
    }
  }
  if (i == nodes.size()) return "";
  std::string text;
  for (std::size_t j = i + 1; j < nodes.size(); ++j) {
    if (nodes[j].action) {
      if (is_control(nodes[j].text)) continue;
      break;  // a value is written first: no tag before it
    }
    if (!trim(nodes[j].text).empty()) {
      text = std::string(trim(nodes[j].text));
      break;
    }
  }
  std::string tag(trim(std::string_view(text).substr(0, text.find('{'))));
  std::size_t open = tag.find_first_of("<[");
  if (open != std::string::npos) {
    std::size_t close = tag.find(tag[open] == '<' ? '>' : ']', open);
    if (close != std::string::npos) tag = tag.substr(open, close - open + 1);
  }
  return tag.empty() ? "{" : tag;
}

std::optional<ThinkingTags> thinking_tags(std::string_view tmpl) {
  std::vector<Node> nodes = lex(tmpl);
  for (std::size_t i = 1; i + 1 < nodes.size(); ++i) {
    if (!nodes[i].action || is_control(nodes[i].text) || !mentions_field(nodes[i].text, "Thinking")) { continue; }
    if (nodes[i - 1].action || nodes[i + 1].action) continue;
    ThinkingTags tags{std::string(trim(nodes[i - 1].text)), std::string(trim(nodes[i + 1].text))};
    // The text before may hold more than the tag ("<|im_start|>assistant\n<think>"): its last line.
    if (std::size_t nl = tags.open.rfind('\n'); nl != std::string::npos)
      tags.open = std::string(trim(tags.open.substr(nl + 1)));
    if (std::size_t nl = tags.close.find('\n'); nl != std::string::npos) tags.close = tags.close.substr(0, nl);
    if (!tags.open.empty() && !tags.close.empty()) return tags;
  }
  return std::nullopt;
}

}  // namespace corral::parsers
