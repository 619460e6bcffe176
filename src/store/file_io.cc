#include "store/file_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

namespace corral::store {

namespace {

Status errno_status(const std::string& what, const std::string& path) {
  return Status::errorf("{} {}: {}", what, path, std::strerror(errno));
}

std::string parent_dir(const std::string& path) {
  size_t i = path.rfind('/');
  if (i == std::string::npos) return ".";
  if (i == 0) return "/";
  return path.substr(0, i);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

}  // namespace

Result<std::string> read_file_bounded(const std::string& path, int64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status("cannot open", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return Status::errorf("{} is not a regular file", path);
  if (st.st_size > max_bytes) {
    return Status::errorf("{} is {} bytes, more than the {} this kind of file may have", path,
                          static_cast<int64_t>(st.st_size), max_bytes);
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("cannot read", path);
    if (n == 0) break;  // shrank while reading: return what is there
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  // Grew while reading: bytes past the stat size are not read, so the bound still holds.
  return out;
}

Result<FileStat> stat_path(const std::string& path) {
  struct stat st;
  FileStat fs;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return fs;
    return errno_status("cannot stat", path);
  }
  fs.exists = true;
  fs.is_regular = S_ISREG(st.st_mode);
  fs.is_dir = S_ISDIR(st.st_mode);
  fs.size = st.st_size;
  fs.mtime = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  return fs;
}

Status make_dirs(const std::string& path) {
  if (path.empty()) return Status::ok();
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? Status::ok() : Status::errorf("{} is not a directory", path);
  }
  std::string parent = parent_dir(path);
  if (parent != path) CORRAL_RETURN_IF_ERROR(make_dirs(parent));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) { return errno_status("cannot create directory", path); }
  return Status::ok();
}

std::string temp_path_in(const std::string& dir, std::string_view hint) {
  // pid + counter make names unique within a machine; the random part keeps two processes with
  // recycled pids (containers) apart.
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  return fmt::format("{}/.{}.tmp-{}-{}-{:x}", dir, hint, ::getpid(), counter.fetch_add(1), salt);
}

Status write_file_atomic(const std::string& path, std::string_view bytes) {
  std::string dir = parent_dir(path);
  std::string tmp = temp_path_in(dir, path.substr(dir.size() + 1));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return errno_status("cannot create", tmp);
  auto fail = [&](Status st) {
    ::unlink(tmp.c_str());
    return st;
  };
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno_status("cannot write", tmp));
    done += static_cast<size_t>(n);
  }
  // The mode is set explicitly: the umask may have narrowed 0644, and Ollama (another user, e.g.
  // the service account) must be able to read what corral writes.
  if (::fchmod(fd.get(), 0644) != 0) return fail(errno_status("cannot chmod", tmp));
  if (::fsync(fd.get()) != 0) return fail(errno_status("cannot sync", tmp));
  if (::close(fd.release()) != 0) return fail(errno_status("cannot close", tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno_status("cannot rename to", path));
  return Status::ok();
}

void prune_empty_dirs(std::string dir, const std::string& stop) {
  while (dir.size() > stop.size() && dir.compare(0, stop.size(), stop) == 0) {
    if (::rmdir(dir.c_str()) != 0) return;  // not empty (or gone): stop climbing
    dir = parent_dir(dir);
  }
}

Result<DirLock> DirLock::acquire(const std::string& dir, Mode mode) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status("cannot open", dir);
  int op = mode == Mode::kShared ? LOCK_SH : LOCK_EX;
  while (::flock(fd.get(), op) != 0) {
    if (errno != EINTR) return errno_status("cannot lock", dir);
  }
  return DirLock(fd.release());
}

DirLock& DirLock::operator=(DirLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace corral::store
