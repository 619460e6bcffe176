// POST /v1/embeddings: the same embeddings as /api/embed (L2-normalised), in OpenAI's list
// shape. `dimensions` keeps the first n values and normalises again, as Ollama does;
// encoding_format "base64" packs each vector as little-endian float32 bytes.
#include <bit>
#include <cmath>
#include <cstring>

#include "server/embedding_jobs.h"
#include "server/openai/common.h"
#include "server/openai/handlers.h"
#include "server/request_fields.h"
#include "server/request_qos.h"

namespace corral::server::openai {
namespace {

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

ordered_json encode(const std::vector<float>& v, bool as_base64) {
  if (!as_base64) return v;
  static_assert(std::endian::native == std::endian::little, "base64 embeddings are little-endian float32");
  std::string bytes(v.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return base64(bytes);
}

void truncate_and_normalize(std::vector<float>& v, size_t dims) {
  if (dims == 0 || dims >= v.size()) return;
  v.resize(dims);
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& x : v) x = static_cast<float>(x / norm);
}

// A string or an array of strings; "" counts as one empty input (Ollama's rule).
Result<std::vector<std::string>> inputs(const ordered_json& b) {
  auto it = b.find("input");
  if (it == b.end() || it->is_null()) return Status::error("invalid input: 'input' is required");
  if (it->is_string()) return std::vector<std::string>{it->get<std::string>()};
  if (!it->is_array()) return Status::error("invalid type for 'input': expected a string or an array of strings");
  if (it->empty()) return Status::error("invalid input: 'input' must not be empty");
  std::vector<std::string> out;
  for (const auto& x : *it) {
    if (!x.is_string()) return Status::error("invalid type for 'input': token arrays are not supported");
    out.push_back(x.get<std::string>());
  }
  return out;
}

}  // namespace

void handle_embeddings(ApiContext& ctx, http::Request&& req, Writer w) {
  auto body = parse_body(req.body);
  if (!body) return respond_error(w, kErrors, 400, body.error());
  const ordered_json& b = *body;
  std::string name;
  if (!read_string(b, "model", &name))
    return respond_error(w, kErrors, 400, "invalid type for 'model': expected a string");
  auto in = inputs(b);
  if (!in) return respond_error(w, kErrors, 400, in.error());
  std::string format = "float";
  if (!read_string(b, "encoding_format", &format))
    return respond_error(w, kErrors, 400, "invalid type for 'encoding_format': expected a string");
  if (format != "float" && format != "base64")
    return respond_error(
        w, kErrors, 400,
        "Invalid value for 'encoding_format' = " + clip_for_error(format) + ". Supported values: ['float', 'base64'].");
  int64_t dims = 0;
  if (!read_int(b, "dimensions", &dims) || (find_field(b, "dimensions") && dims < 1))
    return respond_error(w, kErrors, 400, "invalid value for 'dimensions': expected a positive integer");

  auto qos = read_request_qos(req, b, ctx.scheduler.config().fairness);
  if (!qos) return respond_error(w, kErrors, 400, qos.error());
  auto m = resolve_or_respond(ctx, kErrors, name, w);
  if (!m) return;
  RequestOptions opts;
  if (Status s = apply_options(m->params, &opts); !s)
    return respond_error(w, kErrors, 500, "model parameters: " + s.message());
  EmbedRequest er{.inputs = std::move(in).value(), .options = opts, .qos = *qos};
  run_embeddings(ctx, *m, std::move(er), w, kErrors, [name, dims, as_base64 = format == "base64"](EmbedGather& g) {
    ordered_json data = ordered_json::array();
    for (size_t i = 0; i < g.vectors.size(); ++i) {
      truncate_and_normalize(g.vectors[i], static_cast<size_t>(dims));
      data.push_back(
          ordered_json{{"object", "embedding"}, {"embedding", encode(g.vectors[i], as_base64)}, {"index", i}});
    }
    return ordered_json{{"object", "list"},
                        {"data", data},
                        {"model", name},
                        {"usage", {{"prompt_tokens", g.prompt_tokens}, {"total_tokens", g.prompt_tokens}}}};
  });
}

}  // namespace corral::server::openai
