#include "cli/show_info.h"

#include <sstream>

#include <fmt/format.h>

#include "cli/format.h"

namespace corral::cli {
namespace {

using json = nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

// JSON numbers as Go's strconv.FormatFloat(v, 'f', -1, 64): no exponent, no trailing zeros.
std::string number_text(const json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_float()) {
    std::string s = fmt::format("{:f}", v.get<double>());
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
      const bool dot = s.back() == '.';
      s.pop_back();
      if (dot) break;
    }
    return s;
  }
  return "";
}

// The first `n` non-empty lines, trimmed (Ollama's head()).
Rows head(const std::string& text, size_t n) {
  Rows rows;
  std::istringstream in(text);
  std::string line;
  while (rows.size() < n && std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r");
    rows.push_back({"", line.substr(b, e - b + 1)});
  }
  return rows;
}

void section(std::string* out, const std::string& title, const Rows& rows) {
  *out += "  " + title + "\n";
  *out += render_table({}, rows);
  *out += "\n";
}

}  // namespace

std::string render_show_info(const json& resp) {
  std::string out;
  const json details = resp.value("details", json::object());
  const json info = resp.value("model_info", json::object());
  Rows model;
  if (info.is_object() && info.contains("general.architecture") && info["general.architecture"].is_string()) {
    const std::string arch = info["general.architecture"].get<std::string>();
    model.push_back({"", "architecture", arch});
    if (auto it = info.find("general.parameter_count"); it != info.end() && it->is_number())
      model.push_back({"", "parameters", human_number(it->get<uint64_t>())});
    if (auto it = info.find(arch + ".context_length"); it != info.end() && it->is_number())
      model.push_back({"", "context length", number_text(*it)});
    if (auto it = info.find(arch + ".embedding_length"); it != info.end() && it->is_number())
      model.push_back({"", "embedding length", number_text(*it)});
  } else {
    model.push_back({"", "architecture", details.value("family", "")});
    model.push_back({"", "parameters", details.value("parameter_size", "")});
  }
  model.push_back({"", "quantization", details.value("quantization_level", "")});
  if (resp.contains("requires") && resp["requires"].is_string() && !resp["requires"].get<std::string>().empty())
    model.push_back({"", "requires", resp["requires"].get<std::string>()});
  section(&out, "Model", model);

  if (auto caps = resp.find("capabilities"); caps != resp.end() && caps->is_array() && !caps->empty()) {
    Rows rows;
    for (const json& c : *caps)
      if (c.is_string()) rows.push_back({"", c.get<std::string>()});
    section(&out, "Capabilities", rows);
  }
  const std::string params = resp.value("parameters", "");
  if (!params.empty()) {
    Rows rows;
    std::istringstream in(params);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::vector<std::string> row{""};
      std::string w;
      while (words >> w) row.push_back(w);
      if (row.size() > 1) rows.push_back(std::move(row));
    }
    section(&out, "Parameters", rows);
  }
  const std::string system = resp.value("system", "");
  if (!system.empty()) section(&out, "System", head(system, 2));
  const std::string license = resp.value("license", "");
  if (!license.empty()) section(&out, "License", head(license, 2));
  return out;
}

}  // namespace corral::cli
