// Structured output end to end: Ollama's `format` ("json" or a JSON schema) and OpenAI's
// `response_format` constrain sampling so that, whatever the seed, the output parses and
// validates. Random-weight and tiny models at temperature 1 are the hard case: they would
// write anything if left alone. Each check runs 50 random seeds on four vocabularies (SPM with
// and without byte tokens, two byte-level BPEs); a failure names its seed.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <random>

#include "common/http_client.h"
#include "server/server_process.h"

namespace corral::testing {
namespace {

using json = nlohmann::json;

constexpr int kSeeds = 50;
const char* const kModels[] = {"stories", "tiny", "syn-qwen2", "syn-llama3"};

// Every scalar type, an enum, a nullable, bounds, an optional property, nesting.
const json kPersonSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 12},
    "age": {"type": "integer", "minimum": 0},
    "height": {"type": "number"},
    "alive": {"type": "boolean"},
    "mood": {"enum": ["happy", "sad", "calm"]},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
    "home": {
      "type": "object",
      "properties": {"city": {"type": "string", "maxLength": 10}, "floors": {"type": "array", "items": {"type": "integer"}, "maxItems": 4}},
      "required": ["city", "floors"]
    },
    "nickname": {"type": ["string", "null"], "maxLength": 6}
  },
  "required": ["name", "age", "height", "alive", "mood", "tags", "home"]
})");

// An array at the root, of objects with a constant and a boolean.
const json kListSchema = json::parse(R"({
  "type": "array",
  "minItems": 1,
  "maxItems": 3,
  "items": {
    "type": "object",
    "properties": {"kind": {"const": "item"}, "id": {"type": "integer"}, "ok": {"type": "boolean"}},
    "required": ["kind", "id", "ok"],
    "additionalProperties": false
  }
})");

bool has_type(const json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The schema subset used above; "" when `v` validates, else where and why not.
std::string validate(const json& schema, const json& v, const std::string& at = "$") {
  if (auto t = schema.find("type"); t != schema.end()) {
    bool ok = false;
    if (t->is_string()) ok = has_type(v, *t);
    else
      for (const auto& x : *t) ok |= has_type(v, x);
    if (!ok) return at + ": expected type " + t->dump() + ", got " + v.dump();
  }
  if (auto e = schema.find("enum"); e != schema.end() && std::find(e->begin(), e->end(), v) == e->end())
    return at + ": not in the enum: " + v.dump();
  if (auto c = schema.find("const"); c != schema.end() && *c != v) return at + ": not the const: " + v.dump();
  if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>())
    return at + ": below the minimum: " + v.dump();
  if (v.is_string() && schema.contains("maxLength") &&
      code_points(v.get<std::string>()) > schema["maxLength"].get<size_t>())
    return at + ": longer than maxLength: " + v.dump();
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) return at + ": too few items";
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) return at + ": too many items";
    if (schema.contains("items"))
      for (size_t i = 0; i < v.size(); ++i)
        if (auto err = validate(schema["items"], v[i], at + "[" + std::to_string(i) + "]"); !err.empty()) return err;
  }
  if (v.is_object()) {
    for (const auto& r : schema.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) return at + ": missing required property " + r.dump();
    const json props = schema.value("properties", json::object());
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (props.contains(it.key())) {
        if (auto err = validate(props[it.key()], it.value(), at + "." + it.key()); !err.empty()) return err;
      } else if (schema.value("additionalProperties", json(true)) == false) {
        return at + ": unexpected property " + it.key();
      }
    }
  }
  return "";
}

class StructuredOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = ServerProcess::start(shared_test_store(), {{"OLLAMA_NUM_PARALLEL", "8"}}).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  struct Output {
    int64_t seed;
    std::string text;
    std::string finish;  // done_reason / finish_reason
  };

  // Runs `request(model, seed)` for kSeeds random seeds, 8 at a time (they batch together), and
  // returns each output with its seed.
  static std::vector<Output> run(const std::string& model, const std::string& path,
                                 const std::function<json(const std::string&, int64_t)>& request) {
    std::mt19937_64 rng{std::random_device{}()};
    std::vector<int64_t> seeds;
    for (int i = 0; i < kSeeds; ++i) seeds.push_back(static_cast<int64_t>(rng() >> 33));
    std::vector<Output> out;
    for (size_t begin = 0; begin < seeds.size(); begin += 8) {
      std::vector<std::future<Output>> fs;
      for (size_t i = begin; i < std::min(seeds.size(), begin + 8); ++i)
        fs.push_back(std::async(std::launch::async, [&, seed = seeds[i]] {
          HttpResponse r = http_post(server_->url(path), request(model, seed).dump());
          EXPECT_EQ(r.status, 200) << model << " seed " << seed << ": " << r.body;
          json j = json::parse(r.body, nullptr, false);
          if (j.is_discarded()) return Output{seed, "", ""};
          if (j.contains("choices"))
            return Output{seed, j["choices"][0]["message"]["content"].get<std::string>(),
                          j["choices"][0]["finish_reason"].get<std::string>()};
          const json& text = j.contains("message") ? j["message"]["content"] : j["response"];
          return Output{seed, text.get<std::string>(), j.value("done_reason", "")};
        }));
      for (auto& f : fs) out.push_back(f.get());
    }
    return out;
  }

  static json parse_or_fail(const std::string& model, const Output& o) {
    json v = json::parse(o.text, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(v.is_discarded()) << model << " seed " << o.seed << " (" << o.finish << ") does not parse: " << o.text;
    return v;
  }

  static void expect_valid(const json& schema, const std::string& model, const Output& o) {
    json v = parse_or_fail(model, o);
    if (v.is_discarded()) return;
    EXPECT_EQ(validate(schema, v), "") << model << " seed " << o.seed << " (" << o.finish << "): " << o.text;
  }

  static ServerProcess* server_;
};
ServerProcess* StructuredOutput::server_ = nullptr;

TEST_F(StructuredOutput, OllamaFormatJsonAlwaysParsesAsAnObject) {
  ASSERT_NE(server_, nullptr);
  for (const std::string model : kModels) {
    auto outs = run(model, "/api/generate", [](const std::string& m, int64_t seed) {
      return json{{"model", m},
                  {"prompt", "Describe a cat as JSON."},
                  {"format", "json"},
                  {"stream", false},
                  {"options", {{"seed", seed}, {"temperature", 1.0}, {"num_predict", 96}}}};
    });
    for (const auto& o : outs) {
      json v = parse_or_fail(model, o);
      EXPECT_TRUE(v.is_discarded() || v.is_object()) << model << " seed " << o.seed << ": " << o.text;
    }
  }
}

TEST_F(StructuredOutput, OllamaFormatSchemaAlwaysValidates) {
  for (const std::string model : kModels) {
    auto outs = run(model, "/api/chat", [](const std::string& m, int64_t seed) {
      return json{{"model", m},
                  {"messages", {{{"role", "user"}, {"content", "Describe a person."}}}},
                  {"format", seed % 2 ? kPersonSchema : kListSchema},
                  {"stream", false},
                  {"options", {{"seed", seed}, {"temperature", 1.0}, {"num_predict", 160}}}};
    });
    for (const auto& o : outs) expect_valid(o.seed % 2 ? kPersonSchema : kListSchema, model, o);
  }
}

TEST_F(StructuredOutput, OpenAiResponseFormatJsonSchemaAlwaysValidates) {
  for (const std::string model : kModels) {
    auto outs = run(model, "/v1/chat/completions", [](const std::string& m, int64_t seed) {
      return json{{"model", m},
                  {"messages", {{{"role", "user"}, {"content", "Describe a person."}}}},
                  {"response_format",
                   {{"type", "json_schema"},
                    {"json_schema",
                     {{"name", "answer"}, {"strict", true}, {"schema", seed % 2 ? kPersonSchema : kListSchema}}}}},
                  {"seed", seed},
                  {"max_tokens", 160}};
    });
    for (const auto& o : outs) expect_valid(o.seed % 2 ? kPersonSchema : kListSchema, model, o);
  }
}

// A budget far too small for the value: the engine closes it with the fewest bytes that make
// it valid when num_predict runs out, so even a cut-off answer validates.
TEST_F(StructuredOutput, ATinyTokenBudgetStillValidates) {
  for (const std::string model : kModels) {
    auto outs = run(model, "/api/chat", [](const std::string& m, int64_t seed) {
      return json{{"model", m},
                  {"messages", {{{"role", "user"}, {"content", "Describe a person."}}}},
                  {"format", seed % 2 ? kPersonSchema : kListSchema},
                  {"stream", false},
                  {"options", {{"seed", seed}, {"temperature", 1.0}, {"num_predict", 1 + seed % 8}}}};
    });
    int cut = 0;
    for (const auto& o : outs) {
      expect_valid(o.seed % 2 ? kPersonSchema : kListSchema, model, o);
      cut += o.finish == "length";
    }
    EXPECT_GT(cut, kSeeds / 2) << model << ": most of these budgets should run out";
  }
  // OpenAI's json_object and Ollama's "json" when cut short: still an object.
  for (const std::string model : kModels) {
    auto outs = run(model, "/v1/chat/completions", [](const std::string& m, int64_t seed) {
      return json{{"model", m},
                  {"messages", {{{"role", "user"}, {"content", "JSON please"}}}},
                  {"response_format", {{"type", "json_object"}}},
                  {"seed", seed},
                  {"max_tokens", 1 + seed % 6}};
    });
    for (const auto& o : outs) {
      json v = parse_or_fail(model, o);
      EXPECT_TRUE(v.is_discarded() || v.is_object()) << model << " seed " << o.seed << ": " << o.text;
    }
  }
}

}  // namespace
}  // namespace corral::testing
