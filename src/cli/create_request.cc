#include "cli/create_request.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "gguf/gguf_file.h"
#include "store/create.h"
#include "store/digest.h"
#include "store/modelfile.h"

namespace corral::cli {

Result<std::string> file_digest(const std::string& path, int64_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::errorf("open {}: {}", path, std::strerror(errno));
  store::Sha256 h;
  std::vector<char> buf(1 << 20);  // large reads: hashing a multi-GB model is I/O-bound
  int64_t n_total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Status::errorf("read {}: {}", path, std::strerror(errno));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
    n_total += n;
  }
  ::close(fd);
  if (size) *size = n_total;
  return h.finish().str();
}

namespace {

// A "files" key the server accepts (a relative name without '\\' or ':'), unique in the request.
std::string file_key(const std::string& path, const nlohmann::ordered_json& files) {
  std::string name = std::filesystem::path(path).filename().string();
  for (char& c : name) {
    if (c == '\\' || c == ':') c = '_';
  }
  if (name.empty() || name == "." || name == "..") name = "model.gguf";
  std::string key = name;
  for (int i = 2; files.contains(key); ++i) key = fmt::format("{}-{}", i, name);
  return key;
}

}  // namespace

Result<CreatePlan> plan_create(const std::string& model, const store::Modelfile& modelfile, const std::string& dir) {
  const store::Modelfile* mf = &modelfile;
  CreatePlan plan;
  nlohmann::ordered_json& req = plan.request;
  req["model"] = model;
  nlohmann::ordered_json files = nlohmann::ordered_json::object();
  for (const store::ModelfileCommand& c : mf->commands) {
    if (c.name != "model") continue;
    const std::string path = store::expand_from_path(c.args, dir);
    struct stat sb;
    const bool here = ::stat(path.c_str(), &sb) == 0;
    // `show --modelfile` prints FROM <the server's blob path>, named by its digest: that blob is
    // named as it is, unhashed, and need not exist here when the server has it (a remote server).
    if (auto named = store::Digest::parse(std::filesystem::path(path).filename().string());
        named && store::looks_like_path(c.args) && (!here || S_ISREG(sb.st_mode))) {
      LocalBlob b;
      b.from = c.args;
      b.path = here ? path : "";
      b.name = file_key(path, files);
      b.digest = named->str();
      b.size = here ? static_cast<int64_t>(sb.st_size) : 0;
      files[b.name] = b.digest;
      plan.blobs.push_back(std::move(b));
      continue;
    }
    if (!here) {
      // Spelled as a path: a file that is not there (the server never reads paths).
      if (store::looks_like_path(c.args)) return Status::errorf("line {}: FROM {}: no such file", c.line, c.args);
      // Not a file here: a model name (or a blob digest) for the server to resolve.
      if (req.contains("from")) return Status::errorf("line {}: only the first FROM may name a model", c.line);
      req["from"] = c.args;
      continue;
    }
    if (S_ISDIR(sb.st_mode))
      return Status::errorf("line {}: FROM {} is a directory; corral imports GGUF files only", c.line, c.args);
    // Checked here, where the file is the user's own, so the parser's detail can be shown (the
    // server names a bad blob without quoting it) and nothing is uploaded in vain.
    if (auto g = gguf::GgufFile::open(path); !g)
      return Status::errorf("line {}: FROM {}: supplied file was not in GGUF format: {}", c.line, c.args, g.error());
    LocalBlob b;
    b.from = c.args;
    b.path = path;
    b.name = file_key(path, files);
    auto d = file_digest(path, &b.size);
    if (!d) return d.status();
    b.digest = *d;
    files[b.name] = b.digest;
    plan.blobs.push_back(std::move(b));
  }
  // Ollama's request has no way to say "this model plus these files": the server would take
  // "from" and drop "files".
  if (req.contains("from") && !files.empty())
    return Status::error("a Modelfile that names a model cannot also import files (not supported yet)");
  if (!files.empty()) req["files"] = files;
  if (mf->template_text) req["template"] = *mf->template_text;
  if (mf->system) req["system"] = *mf->system;
  if (!mf->licenses.empty()) req["license"] = mf->licenses;
  if (!mf->parameters.empty()) req["parameters"] = mf->parameters;
  if (!mf->messages.empty()) {
    nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
    for (const store::Message& m : mf->messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
    req["messages"] = msgs;
  }
  if (!mf->renderer.empty()) req["renderer"] = mf->renderer;
  if (!mf->parser.empty()) req["parser"] = mf->parser;
  if (!mf->requires_version.empty()) req["requires"] = mf->requires_version;
  return plan;
}

}  // namespace corral::cli
