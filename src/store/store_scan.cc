#include "store/store_scan.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace corral::store::detail {

namespace fs = std::filesystem;

namespace {

constexpr NamePart kLevels[] = {NamePart::kHost, NamePart::kNamespace, NamePart::kModel, NamePart::kTag};

// Entries of `dir` whose names are valid for `part`; directories for the first three levels,
// regular files (symlinks followed, as Ollama's os.Stat follows them) for the tag.
Status walk(const fs::path& dir, int level, std::vector<std::string>* parts, std::vector<ManifestFile>* out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) { return Status::ok(); }
    return Status::errorf("cannot list {}: {}", dir.string(), ec.message());
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return Status::errorf("cannot list {}: {}", dir.string(), ec.message());
    std::string name = it->path().filename().string();
    if (!is_valid_name_part(kLevels[level], name)) continue;
    std::error_code sec;
    fs::file_status st = fs::status(it->path(), sec);  // follows symlinks
    if (sec) continue;                                 // dangling link or raced away
    parts->push_back(name);
    if (level < 3 && fs::is_directory(st)) {
      CORRAL_RETURN_IF_ERROR(walk(it->path(), level + 1, parts, out));
    } else if (level == 3 && fs::is_regular_file(st)) {
      ManifestFile mf;
      mf.name = ModelName{(*parts)[0], (*parts)[1], (*parts)[2], (*parts)[3]};
      mf.path = it->path().string();
      out->push_back(std::move(mf));
    }
    parts->pop_back();
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<ManifestFile>> scan_manifests(const std::string& manifests_dir) {
  std::vector<ManifestFile> out;
  std::vector<std::string> parts;
  CORRAL_RETURN_IF_ERROR(walk(manifests_dir, 0, &parts, &out));
  std::sort(out.begin(), out.end(), [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return out;
}

std::vector<Digest> digests_in_text(std::string_view text) {
  constexpr size_t kLen = 6 + 1 + 64;  // "sha256" + separator + hex
  std::vector<Digest> out;
  for (size_t i = text.find("sha256"); i != std::string_view::npos && i + kLen <= text.size();
       i = text.find("sha256", i + 1)) {
    if (auto d = Digest::parse(text.substr(i, kLen))) out.push_back(*d);
  }
  return out;
}

}  // namespace corral::store::detail
