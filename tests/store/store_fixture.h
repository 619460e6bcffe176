// Test helpers: a throw-away store root, and files written the way Ollama writes them.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/digest.h"
#include "store/store.h"

namespace corral::store::testing {

class TempStore : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "corral-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  Store store() const { return Store(root_); }

  static void write_file(const std::string& path, const std::string& bytes) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    ASSERT_TRUE(out.good()) << path;
  }

  // Writes a blob by hand (as Ollama's download would) and returns its "sha256:<hex>".
  std::string put_blob(const std::string& bytes) const {
    Digest d = Sha256::of(bytes);
    write_file(root_ + "/blobs/" + d.file_name(), bytes);
    return d.str();
  }

  std::string manifest_file(const std::string& rel) const { return root_ + "/manifests/" + rel; }

  std::vector<std::string> blob_files() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root_ + "/blobs", ec)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string root_;
};

inline std::string layer_json(const std::string& media, const std::string& digest, size_t size) {
  return "{\"mediaType\":\"" + media + "\",\"digest\":\"" + digest + "\",\"size\":" + std::to_string(size) + "}";
}

}  // namespace corral::store::testing
