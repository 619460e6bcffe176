// Writing blobs: hash while copying into a temp file in blobs/, then rename into place.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "store/store.h"

namespace corral::store {

namespace {

constexpr size_t kCopyChunk = 1 << 20;  // large enough that syscalls do not dominate a GB copy

Status errno_status(const std::string& what, const std::string& path) {
  return Status::errorf("{} {}: {}", what, path, std::strerror(errno));
}

}  // namespace

BlobWriter::BlobWriter(std::string blobs_dir, std::string temp, int fd)
    : blobs_dir_(std::move(blobs_dir)), temp_(std::move(temp)), fd_(fd), hash_(std::make_unique<Sha256>()) {}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : blobs_dir_(std::move(o.blobs_dir_)),
      temp_(std::move(o.temp_)),
      fd_(o.fd_),
      size_(o.size_),
      hash_(std::move(o.hash_)) {
  o.fd_ = -1;
  o.temp_.clear();
}

BlobWriter::~BlobWriter() { discard(); }

void BlobWriter::discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
}

Status BlobWriter::append(const void* data, size_t n) {
  if (fd_ < 0) return Status::error("blob writer is closed");
  const char* p = static_cast<const char*>(data);
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd_, p + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      Status st = errno_status("cannot write", temp_);
      discard();
      return st;
    }
    done += static_cast<size_t>(w);
  }
  hash_->update(data, n);
  size_ += static_cast<int64_t>(n);
  return Status::ok();
}

Result<BlobWrite> BlobWriter::commit(const std::optional<Digest>& expected) {
  if (fd_ < 0) return Status::error("blob writer is closed");
  BlobWrite out;
  out.digest = hash_->finish();
  out.size = size_;
  if (expected && *expected != out.digest) {
    discard();
    return Status::errorf("digest mismatch, expected \"{}\", got \"{}\"", expected->str(), out.digest.str());
  }
  // 0644 whatever the umask: an Ollama service running as another user must read it.
  if (::fchmod(fd_, 0644) != 0 || ::fsync(fd_) != 0) {
    Status st = errno_status("cannot finish", temp_);
    discard();
    return st;
  }
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    Status st = errno_status("cannot close", temp_);
    discard();
    return st;
  }
  out.path = blobs_dir_ + "/" + out.digest.file_name();
  struct stat st;
  if (::stat(out.path.c_str(), &st) == 0) {
    // Same digest, same bytes: keep the existing file (its inode may be mapped by a running model).
    discard();
    if (!S_ISREG(st.st_mode)) return Status::errorf("{} exists and is not a file", out.path);
    out.created = false;
    return out;
  }
  if (::rename(temp_.c_str(), out.path.c_str()) != 0) {
    Status s = errno_status("cannot rename to", out.path);
    discard();
    return s;
  }
  temp_.clear();
  out.created = true;
  return out;
}

bool Store::has_blob(const Digest& d) const {
  struct stat st;
  return !d.empty() && ::stat(blob_path(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<BlobWriter> Store::begin_blob() const {
  CORRAL_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  std::string temp = temp_path_in(blobs_dir(), "sha256");
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("cannot create", temp);
  return BlobWriter(blobs_dir(), std::move(temp), fd);
}

Result<BlobWrite> Store::write_blob(std::istream& in, const std::optional<Digest>& expected,
                                    const ByteProgress& progress) const {
  CORRAL_ASSIGN_OR_RETURN(BlobWriter w, begin_blob());
  std::vector<char> buf(kCopyChunk);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n > 0) {
      CORRAL_RETURN_IF_ERROR(w.append(buf.data(), static_cast<size_t>(n)));
      if (progress) progress(w.size(), 0);
    }
  }
  if (in.bad()) return Status::error("read error while writing a blob");
  return w.commit(expected);
}

Result<BlobWrite> Store::write_blob_from_file(const std::string& path, const std::optional<Digest>& expected,
                                              const ByteProgress& progress) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open", path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno_status("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return Status::errorf("{} is not a regular file", path);
  CORRAL_ASSIGN_OR_RETURN(BlobWriter w, begin_blob());
  std::vector<char> buf(kCopyChunk);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("cannot read", path);
    if (n == 0) break;
    CORRAL_RETURN_IF_ERROR(w.append(buf.data(), static_cast<size_t>(n)));
    if (progress) progress(w.size(), static_cast<int64_t>(st.st_size));
  }
  return w.commit(expected);
}

Result<BlobWrite> Store::write_blob_bytes(std::string_view bytes) const {
  CORRAL_ASSIGN_OR_RETURN(BlobWriter w, begin_blob());
  CORRAL_RETURN_IF_ERROR(w.append(bytes.data(), bytes.size()));
  return w.commit();
}

}  // namespace corral::store
