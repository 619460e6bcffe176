// Store: names on disk, manifests, copy, remove and garbage collection.
#include "store/store.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/quote.h"
#include "store/store_scan.h"

namespace corral::store {

namespace fs = std::filesystem;

namespace {

std::string parent_dir(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Names of `dir`'s entries that match `part` ignoring case; directories or regular files.
std::vector<std::string> fold_matches(const std::string& dir, const std::string& part, bool want_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!equal_fold(name, part)) continue;
    std::error_code sec;
    fs::file_status st = fs::status(it->path(), sec);
    if (sec) continue;
    if (want_dir ? fs::is_directory(st) : fs::is_regular_file(st)) out.push_back(name);
  }
  return out;
}

std::string* part_of(ModelName& n, int level) {
  switch (level) {
    case 0: return &n.host;
    case 1: return &n.ns;
    case 2: return &n.model;
    default: return &n.tag;
  }
}

Status not_found(std::string_view name) { return Status::errorf(StatusCode::kNotFound, "model '{}' not found", name); }

}  // namespace

Store::Store(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string Store::default_root() {
  if (const char* env = std::getenv("OLLAMA_MODELS")) {
    // Ollama's envconfig.Var: trim blanks, then any quotes around the value.
    std::string_view v = env;
    constexpr std::string_view kBlank = " \t\n\v\f\r";
    v.remove_prefix(std::min(v.size(), v.find_first_not_of(kBlank)));
    v.remove_suffix(v.size() - std::min(v.size(), v.find_last_not_of(kBlank) + 1));
    v.remove_prefix(std::min(v.size(), v.find_first_not_of("\"'")));
    v.remove_suffix(v.size() - std::min(v.size(), v.find_last_not_of("\"'") + 1));
    if (!v.empty()) return std::string(v);
  }
  std::string home;
  if (const char* h = std::getenv("HOME"); h && *h) {
    home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) {
    home = pw->pw_dir;
  }
  return home + "/.ollama/models";
}

Result<ModelName> Store::find(const ModelName& name) const {
  ModelName found = name;
  std::string dir = manifests_dir();
  for (int level = 0; level < 4; ++level) {
    std::string* part = part_of(found, level);
    bool want_dir = level < 3;
    auto st = stat_path(dir + "/" + *part);
    if (!st) return st.status();
    if (!(st->exists && (want_dir ? st->is_dir : st->is_regular))) {
      std::vector<std::string> m = fold_matches(dir, *part, want_dir);
      if (m.empty()) return not_found(name.display());
      if (m.size() > 1) {
        return Status::errorf("model '{}' is ambiguous: stored names differ from it only in case ({})", name.display(),
                              fmt::join(m, ", "));
      }
      *part = m[0];
    }
    dir += "/" + *part;
  }
  return found;
}

ModelName Store::spelling_for_write(const ModelName& name) const {
  ModelName out = name;
  std::string dir = manifests_dir();
  for (int level = 0; level < 4; ++level) {
    std::string* part = part_of(out, level);
    auto st = stat_path(dir + "/" + *part);
    if (!st || !st->exists) {
      std::vector<std::string> m = fold_matches(dir, *part, level < 3);
      if (m.size() != 1) return out;  // a new part (or an ambiguous one): keep the caller's
      *part = m[0];
    }
    dir += "/" + *part;
  }
  return out;
}

Result<Manifest> Store::read_manifest(const ModelName& name) const {
  std::string path = manifest_path(name);
  CORRAL_ASSIGN_OR_RETURN(std::string bytes, read_file_bounded(path, kMaxManifestBytes));
  auto m = Manifest::parse(bytes);
  if (!m) return m.status().with_context(path);
  return m;
}

Status Store::write_manifest(const ModelName& name, const Manifest& manifest, Locking locking) const {
  std::optional<DirLock> lock;
  if (locking == Locking::kTakeLock) {
    CORRAL_ASSIGN_OR_RETURN(DirLock l, lock_shared());
    lock.emplace(std::move(l));
  }
  for (const Digest& d : manifest.digests()) {
    if (!has_blob(d)) {
      return Status::errorf("cannot write manifest {}: blob {} is missing", name.display(), d.str());
    }
  }
  std::string path = manifest_path(spelling_for_write(name));
  CORRAL_RETURN_IF_ERROR(make_dirs(parent_dir(path)));
  return write_file_atomic(path, manifest.to_json());
}

Result<DirLock> Store::lock_shared() const {
  CORRAL_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  return DirLock::acquire(blobs_dir(), DirLock::Mode::kShared);
}

Status Store::copy(std::string_view source, std::string_view destination) const {
  auto src = ModelName::parse(source);
  if (!src) return Status::errorf("source {} is invalid: {}", quote_text(source), src.error());
  auto dst = ModelName::parse(destination);
  if (!dst) return Status::errorf("destination {} is invalid: {}", quote_text(destination), dst.error());

  CORRAL_ASSIGN_OR_RETURN(DirLock lock, lock_shared());
  auto found = find(*src);
  if (!found) return found.status();
  ModelName to = spelling_for_write(*dst);
  std::string from_path = manifest_path(*found), to_path = manifest_path(to);
  if (from_path == to_path) return Status::ok();  // Ollama: copying onto itself is a no-op

  CORRAL_ASSIGN_OR_RETURN(std::string bytes, read_file_bounded(from_path, kMaxManifestBytes));
  auto m = Manifest::parse(bytes);
  if (!m) return m.status().with_context("cannot copy " + found->display());
  for (const Digest& d : m->digests()) {
    if (!has_blob(d)) { return Status::errorf("cannot copy {}: blob {} is missing", found->display(), d.str()); }
  }
  CORRAL_RETURN_IF_ERROR(make_dirs(parent_dir(to_path)));
  return write_file_atomic(to_path, bytes);  // same bytes, so the same manifest digest
}

Result<RemoveResult> Store::remove(std::string_view name) const {
  auto parsed = ModelName::parse(name);
  if (!parsed) return parsed.status();
  // Look the model up before locking: a missing model must not create blobs/ just to fail.
  if (auto f = find(*parsed); !f) return f.status();

  CORRAL_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  CORRAL_ASSIGN_OR_RETURN(DirLock lock, DirLock::acquire(blobs_dir(), DirLock::Mode::kExclusive));
  CORRAL_ASSIGN_OR_RETURN(ModelName found, find(*parsed));  // again, now that nothing moves
  std::string path = manifest_path(found);

  // The blobs this manifest used are the collection candidates. A manifest that no longer
  // parses can still be removed; the digests in its text are its candidates.
  std::vector<Digest> candidates;
  if (auto bytes = read_file_bounded(path, kMaxManifestBytes)) {
    if (auto m = Manifest::parse(*bytes)) {
      candidates = m->digests();
    } else {
      candidates = detail::digests_in_text(*bytes);
    }
  }
  if (::unlink(path.c_str()) != 0) { return Status::errorf("cannot remove {}: {}", path, std::strerror(errno)); }
  prune_empty_dirs(parent_dir(path), manifests_dir());

  RemoveResult out;
  out.name = found;
  CORRAL_ASSIGN_OR_RETURN(out.removed_blobs, collect_garbage_locked(candidates));
  return out;
}

Result<std::vector<Digest>> Store::collect_garbage(const std::vector<Digest>& candidates) const {
  if (candidates.empty()) return std::vector<Digest>{};
  CORRAL_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  CORRAL_ASSIGN_OR_RETURN(DirLock lock, DirLock::acquire(blobs_dir(), DirLock::Mode::kExclusive));
  return collect_garbage_locked(candidates);
}

Result<std::vector<Digest>> Store::collect_garbage_locked(const std::vector<Digest>& candidates) const {
  std::vector<Digest> removed;
  if (candidates.empty()) return removed;
  CORRAL_ASSIGN_OR_RETURN(std::vector<detail::ManifestFile> files, detail::scan_manifests(manifests_dir()));
  std::set<Digest> referenced;
  for (const detail::ManifestFile& f : files) {
    auto bytes = read_file_bounded(f.path, kMaxManifestBytes);
    if (!bytes) {
      // Unreadable or oversized: it might reference anything, so nothing is collected.
      return removed;
    }
    if (auto m = Manifest::parse(*bytes)) {
      for (const Digest& d : m->digests()) referenced.insert(d);
    } else {
      for (const Digest& d : detail::digests_in_text(*bytes)) referenced.insert(d);
    }
  }
  std::set<Digest> seen;
  for (const Digest& d : candidates) {
    if (d.empty() || referenced.count(d) || !seen.insert(d).second) continue;
    std::string p = blob_path(d);
    if (::unlink(p.c_str()) == 0) {
      removed.push_back(d);
    } else if (errno != ENOENT) {
      return Status::errorf("cannot remove blob {}: {}", p, std::strerror(errno));
    }
  }
  return removed;
}

}  // namespace corral::store
