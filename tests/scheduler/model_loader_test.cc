// Model files are parsed once and shared; loader threads are joined once their work is done.
#include "scheduler/model_loader.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "common/test_data.h"

namespace corral::scheduler {
namespace {

using namespace std::chrono_literals;

TEST(ModelFileCache, ParsesAFileOnceAndSharesIt) {
  ModelFileCache files(2);
  const std::string path = testing::test_data_path("models/stories260K.gguf");
  auto a = files.get(path);
  ASSERT_TRUE(a.is_ok()) << a.error();
  auto b = files.get(path);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(a->tokenizer.get(), b->tokenizer.get());
  EXPECT_EQ(a->file.get(), b->file.get());
  // A mapped load reads the weights of that same parsed file.
  auto loaded = load_model_files(files, path, model::WeightPlacement::kMapped);
  ASSERT_TRUE(loaded.is_ok()) << loaded.error();
  EXPECT_EQ(loaded->tokenizer.get(), a->tokenizer.get());
  EXPECT_EQ(&loaded->model->file(), a->file.get());
  // A resident load reads them from its own copy of the same tensors.
  auto resident = load_model_files(files, path, model::WeightPlacement::kResident);
  ASSERT_TRUE(resident.is_ok()) << resident.error();
  EXPECT_EQ(resident->tokenizer.get(), a->tokenizer.get());
  const gguf::GgufFile& copy = resident->model->file();
  EXPECT_NE(&copy, a->file.get());
  EXPECT_TRUE(copy.is_resident());
  EXPECT_FALSE(a->file->is_resident());
  EXPECT_EQ(copy.tensors().size(), a->file->tensors().size());
}

TEST(ModelFileCache, KeepsOnlyTheMostRecentFiles) {
  ModelFileCache files(1);
  const std::string p1 = testing::test_data_path("models/stories260K.gguf");
  const std::string p2 = testing::test_data_path("models/tinystories-656k-f32.gguf");
  auto first = files.get(p1);
  ASSERT_TRUE(first.is_ok());
  ASSERT_TRUE(files.get(p2).is_ok());
  auto again = files.get(p1);
  ASSERT_TRUE(again.is_ok());
  EXPECT_NE(first->tokenizer.get(), again->tokenizer.get()) << "p1 was dropped and parsed again";
}

// A deleted blob must not stay mapped (its disk space would stay in use): dropping files that are
// gone leaves the others cached.
TEST(ModelFileCache, DropsFilesDeletedFromTheDisk) {
  ModelFileCache files(4);
  const std::string kept = testing::test_data_path("models/stories260K.gguf");
  const std::string copy =
      std::filesystem::temp_directory_path() / ("corral-mfc-" + std::to_string(getpid()) + ".gguf");
  std::filesystem::copy_file(kept, copy, std::filesystem::copy_options::overwrite_existing);
  auto a = files.get(kept);
  auto b = files.get(copy);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  std::filesystem::remove(copy);
  files.drop_missing();
  EXPECT_EQ(files.get(kept)->tokenizer.get(), a->tokenizer.get()) << "an existing file stays cached";
  EXPECT_FALSE(files.get(copy).is_ok()) << "the deleted file was dropped, so it is read again and fails";
}

TEST(ModelFileCache, AFileThatCannotBeReadIsTheServersFailure) {
  ModelFileCache files;
  auto r = files.get("/nonexistent.gguf");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.code(), StatusCode::kInternal);
  EXPECT_EQ(r.error().rfind("unable to load model: ", 0), 0u) << r.error();
}

TEST(LoaderThreads, FinishedThreadsAreJoinedWithoutWaitingForShutdown) {
  LoaderThreads loaders;
  std::promise<void> release;
  std::shared_future<void> go = release.get_future().share();
  loaders.start([] {});
  loaders.start([go] { go.wait(); });
  EXPECT_GE(loaders.size(), 1u);
  // The quick one is done soon; reaping joins it while the other still runs.
  for (int i = 0; i < 500 && loaders.size() > 1; ++i) {
    std::this_thread::sleep_for(10ms);
    loaders.reap();
  }
  EXPECT_EQ(loaders.size(), 1u);
  release.set_value();
  for (int i = 0; i < 500 && loaders.size() > 0; ++i) {
    std::this_thread::sleep_for(10ms);
    loaders.reap();
  }
  EXPECT_EQ(loaders.size(), 0u);
}

}  // namespace
}  // namespace corral::scheduler
