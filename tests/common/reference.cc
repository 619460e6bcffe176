#include "common/reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/test_data.h"

namespace corral::testing {

namespace {

std::vector<ReferenceCase> load_cases(const std::string& subdir, const std::vector<std::string>* archs) {
  std::vector<ReferenceCase> out;
  const std::string dir = test_data_path(subdir);
  const std::string index_text = read_file(dir + "/index.json");
  if (index_text.empty()) return out;
  const auto index = nlohmann::json::parse(index_text);
  for (const auto& e : index.at("cases")) {
    ReferenceCase c;
    if (archs) {
      const std::string model = e.at("model").get<std::string>();
      const auto& info = index.at("models").at(model.substr(model.rfind('/') + 1));
      c.arch = info.at("arch").get<std::string>();
      if (std::find(archs->begin(), archs->end(), c.arch) == archs->end()) continue;
      c.eog_ids = info.at("eog_ids").get<std::vector<int32_t>>();
    }
    c.name = e.at("case").get<std::string>();
    c.model_path = test_data_dir() + "/" + e.at("model").get<std::string>();
    c.prompt_id = e.at("prompt_id").get<std::string>();
    const auto j = nlohmann::json::parse(read_file(dir + "/" + e.at("json").get<std::string>()));
    c.prompt = j.at("prompt").get<std::string>();
    c.add_bos = j.at("add_bos").get<bool>();
    c.n_vocab = j.at("n_vocab").get<int64_t>();
    c.tokens = j.at("tokens").get<std::vector<int32_t>>();
    for (const auto& row : j.at("top10")) {
      std::vector<std::pair<int32_t, float>> r;
      for (const auto& p : row) r.emplace_back(p.at(0).get<int32_t>(), p.at(1).get<float>());
      c.top10.push_back(std::move(r));
    }
    const auto& g = j.at("greedy");
    c.greedy_ids = g.at("ids").get<std::vector<int32_t>>();
    for (const auto& s : g.at("steps"))
      c.greedy_steps.push_back(
          ReferenceStep{s.at(0).get<int32_t>(), s.at(1).get<float>(), s.at(2).get<int32_t>(), s.at(3).get<float>()});
    c.greedy_stop_reason = g.at("stop_reason").get<std::string>();
    c.greedy_text = g.at("text").get<std::string>();
    c.greedy_text_valid_utf8 = g.value("text_valid_utf8", true);
    if (!j.at("logits_file").is_null()) c.logits_path = dir + "/" + j.at("logits_file").get<std::string>();
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::vector<ReferenceCase> load_reference_cases() { return load_cases("reference", nullptr); }

std::vector<ReferenceCase> load_family_reference_cases(const std::vector<std::string>& archs) {
  return load_cases("reference-families", &archs);
}

std::vector<float> load_reference_logits(const ReferenceCase& c) {
  const std::string bytes = read_file(c.logits_path);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  EXPECT_EQ(v.size(), c.tokens.size() * static_cast<size_t>(c.n_vocab)) << c.logits_path;
  return v;
}

}  // namespace corral::testing
