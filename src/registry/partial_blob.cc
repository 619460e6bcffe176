#include "registry/partial_blob.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "store/file_io.h"

namespace corral::registry {

namespace {

constexpr size_t kMaxPartFiles = 4096;       // a real plan has at most a few dozen
constexpr int64_t kMaxPartFileBytes = 4096;  // one small JSON object
constexpr size_t kHashChunk = 4 << 20;

Status errno_status(const char* what, const std::string& path) {
  return Status::errorf("{} {}: {}", what, path, std::strerror(errno));
}

// Part files of `data_name` ("sha256-<hex>-partial") in `dir`: (N, path) for every
// "<data_name>-<digits>".
std::vector<std::pair<int, std::string>> list_part_files(const std::string& dir, const std::string& data_name) {
  std::vector<std::pair<int, std::string>> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  const std::string prefix = data_name + "-";
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    std::string_view num = name.substr(prefix.size());
    int n = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc() || p != num.data() + num.size() || num.size() > 6 || n < 0) continue;
    out.emplace_back(n, dir + "/" + std::string(name));
    if (out.size() > kMaxPartFiles) break;
  }
  ::closedir(d);
  return out;
}

// One part file as Ollama writes it; nullopt when it is not one.
std::optional<PartState> read_part_file(const std::string& path, int expect_n) {
  auto text = store::read_file_bounded(path, kMaxPartFileBytes);
  if (!text) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto get = [&](const char* key, int64_t* out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return false;
    *out = it->get<int64_t>();
    return *out >= 0;
  };
  PartState p;
  int64_t n = 0;
  if (!get("N", &n) || !get("Offset", &p.offset) || !get("Size", &p.size) || !get("Completed", &p.completed)) {
    return std::nullopt;
  }
  if (n != expect_n || p.size <= 0 || p.completed > p.size) return std::nullopt;
  p.n = static_cast<int>(n);
  return p;
}

}  // namespace

std::vector<PartState> plan_parts(int64_t total, const PartPlan& plan) {
  int64_t size = total / std::max<int64_t>(1, plan.target_parts);
  size = std::clamp(size, std::max<int64_t>(1, plan.min_part_size), std::max(plan.min_part_size, plan.max_part_size));
  std::vector<PartState> parts;
  for (int64_t offset = 0; offset < total; offset += size) {
    parts.push_back({static_cast<int>(parts.size()), offset, std::min(size, total - offset), 0});
  }
  return parts;
}

Result<std::optional<std::unique_ptr<PartialBlob>>> PartialBlob::acquire(const store::Store& store,
                                                                         const store::Digest& digest, int64_t size,
                                                                         const PartPlan& plan,
                                                                         const CancelFlag& cancel) {
  CORRAL_RETURN_IF_ERROR(store::make_dirs(store.blobs_dir()));
  const std::string blob_path = store.blob_path(digest);
  const std::string data = blob_path + "-partial";
  using Found = std::optional<std::unique_ptr<PartialBlob>>;
  while (true) {
    if (cancel.load()) return Status::error("cancelled");
    if (store.has_blob(digest)) return Found(std::nullopt);
    // O_NOFOLLOW: the partial is always a plain file we created; never write through a link.
    int fd = ::open(data.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return errno_status("cannot open", data);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err != EWOULDBLOCK) return Status::errorf("cannot lock {}: {}", data, std::strerror(err));
      // Another pull of the same blob (this process or another): wait for it to finish.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    // While we waited, the holder may have committed (renamed) or discarded the file we opened;
    // then our descriptor names the committed blob or nothing, and must not be written.
    struct stat a, b;
    if (::fstat(fd, &a) != 0 || ::stat(data.c_str(), &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
      ::close(fd);
      continue;
    }
    if (!S_ISREG(a.st_mode)) {
      ::close(fd);
      return Status::errorf("{} is not a regular file", data);
    }
    std::unique_ptr<PartialBlob> p(new PartialBlob(blob_path, digest, size, fd));
    CORRAL_RETURN_IF_ERROR(p->load_or_plan(plan));
    return Found(std::move(p));
  }
}

PartialBlob::~PartialBlob() {
  if (fd_ >= 0) ::close(fd_);  // also releases the flock
}

int64_t PartialBlob::completed() const {
  int64_t sum = 0;
  for (const PartState& p : parts_) sum += p.completed;
  return sum;
}

Status PartialBlob::load_or_plan(const PartPlan& plan) {
  const std::string dir = blob_path_.substr(0, blob_path_.rfind('/'));
  const std::string data_name = data_path().substr(dir.size() + 1);
  auto files = list_part_files(dir, data_name);
  if (files.empty() || files.size() > kMaxPartFiles) return start_afresh(plan);

  // The earlier attempt's parts must tile [0, size) exactly; anything else (another plan, a
  // manifest that changed the size, a damaged file) starts over rather than guess.
  std::vector<PartState> parts;
  for (const auto& [n, path] : files) {
    auto p = read_part_file(path, n);
    if (!p) return start_afresh(plan);
    parts.push_back(*p);
  }
  std::sort(parts.begin(), parts.end(), [](const PartState& a, const PartState& b) { return a.offset < b.offset; });
  int64_t next = 0;
  bool any_done = false;
  for (const PartState& p : parts) {
    if (p.offset != next || p.size > size_ - next) return start_afresh(plan);
    next += p.size;
    any_done = any_done || p.completed > 0;
  }
  if (next != size_) return start_afresh(plan);
  struct stat st;
  if (::fstat(fd_, &st) != 0) return errno_status("cannot stat", data_path());
  if (st.st_size != size_) {
    if (any_done) return start_afresh(plan);  // the data the parts claim is not all there
    if (::ftruncate(fd_, size_) != 0) return errno_status("cannot size", data_path());
  }
  parts_ = std::move(parts);
  return Status::ok();
}

Status PartialBlob::start_afresh(const PartPlan& plan) {
  const std::string dir = blob_path_.substr(0, blob_path_.rfind('/'));
  const std::string data_name = data_path().substr(dir.size() + 1);
  for (const auto& f : list_part_files(dir, data_name)) ::unlink(f.second.c_str());
  // Preallocated (sparse) to the full size, as Ollama does: parts write at their offsets.
  if (::ftruncate(fd_, 0) != 0 || ::ftruncate(fd_, size_) != 0) return errno_status("cannot size", data_path());
  parts_ = plan_parts(size_, plan);
  for (size_t i = 0; i < parts_.size(); ++i) CORRAL_RETURN_IF_ERROR(save_part(i));
  return Status::ok();
}

Status PartialBlob::save_part(size_t i) const {
  const PartState& p = parts_[i];
  // Byte for byte what Go's json.Encoder writes for Ollama's jsonBlobDownloadPart.
  return store::write_file_atomic(
      part_path(p.n),
      fmt::format("{{\"N\":{},\"Offset\":{},\"Size\":{},\"Completed\":{}}}\n", p.n, p.offset, p.size, p.completed));
}

Status PartialBlob::sync_data() const {
  if (::fdatasync(fd_) != 0) return errno_status("cannot sync", data_path());
  return Status::ok();
}

Status PartialBlob::verify() const {
  store::Sha256 hash;
  std::vector<char> buf(kHashChunk);
  int64_t pos = 0;
  while (pos < size_) {
    ssize_t n = ::pread(fd_, buf.data(), static_cast<size_t>(std::min<int64_t>(buf.size(), size_ - pos)), pos);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("cannot read", data_path());
    if (n == 0) break;
    hash.update(buf.data(), static_cast<size_t>(n));
    pos += n;
  }
  const store::Digest got = hash.finish();
  if (pos != size_ || got != digest_) {
    discard();
    return Status::errorf("digest mismatch, file must be downloaded again: want {}, got {}", digest_.str(), got.str());
  }
  return Status::ok();
}

Status PartialBlob::commit() {
  // 0644 whatever the umask: an Ollama service running as another user must read it.
  if (::fchmod(fd_, 0644) != 0 || ::fsync(fd_) != 0) return errno_status("cannot finish", data_path());
  struct stat st;
  if (::stat(blob_path_.c_str(), &st) == 0) {
    ::unlink(data_path().c_str());  // the same bytes arrived another way (a create): keep those
  } else if (::rename(data_path().c_str(), blob_path_.c_str()) != 0) {
    return errno_status("cannot rename to", blob_path_);
  }
  for (const PartState& p : parts_) ::unlink(part_path(p.n).c_str());
  parts_.clear();
  return Status::ok();
}

void PartialBlob::discard() const {
  ::unlink(data_path().c_str());
  for (const PartState& p : parts_) ::unlink(part_path(p.n).c_str());
}

}  // namespace corral::registry
