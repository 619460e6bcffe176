// create / cp / rm through the real binary against a server with its own writable store:
// Modelfile parsing and blob upload on the client, progress lines, what `show` reads back,
// and the error lines (parse errors with their line number, unknown models, quantize).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_runner.h"
#include "common/http_client.h"
#include "common/test_data.h"
#include "server/server_process.h"
#include "store/digest.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;

class CliManage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() / ("corral-cli-manage-" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_ + "/models");
    fs::create_directories(*dir_ + "/work");
    // The Modelfile names the GGUF by a relative path, resolved against its own folder.
    fs::create_symlink(test_data_path("models/stories260K.gguf"), *dir_ + "/work/stories.gguf");
    server_ = ServerProcess::start(*dir_ + "/models").release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static CliResult corral(const std::vector<std::string>& args) {
    return run_corral(args, {{"OLLAMA_HOST", "127.0.0.1:" + std::to_string(server_->port())}});
  }
  static std::string write_modelfile(const std::string& name, const std::string& text) {
    const std::string path = *dir_ + "/work/" + name;
    std::ofstream(path) << text;
    return path;
  }
  static std::string* dir_;
  static ServerProcess* server_;
};
std::string* CliManage::dir_ = nullptr;
ServerProcess* CliManage::server_ = nullptr;

constexpr const char* kModelfile = R"(# a test model
FROM ./stories.gguf
TEMPLATE """{{ if .System }}<s>{{ .System }}</s>{{ end }}{{ .Prompt }}"""
SYSTEM You are a storyteller.
PARAMETER temperature 0.5
PARAMETER stop "<end>"
PARAMETER stop "</s>"
MESSAGE user Tell me a story
MESSAGE assistant Once upon a time
LICENSE """First license line
Second line
Third line"""
)";

TEST_F(CliManage, CreateShowCopyRemove) {
  const std::string mf = write_modelfile("Modelfile", kModelfile);
  auto c = corral({"create", "teller", "-f", mf});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  // Not a terminal: plain progress lines on stderr.
  for (const char* line : {"gathering model components\n", "parsing modelfile\n", "writing manifest\n", "success\n"})
    EXPECT_NE(c.err.find(line), std::string::npos) << line << " in\n" << c.err;
  EXPECT_NE(c.err.find("copying file sha256:"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("100%"), std::string::npos) << c.err;

  auto sys = corral({"show", "teller", "--system"});
  EXPECT_EQ(sys.out, "You are a storyteller.");
  auto tmpl = corral({"show", "teller", "--template"});
  EXPECT_EQ(tmpl.out, "{{ if .System }}<s>{{ .System }}</s>{{ end }}{{ .Prompt }}");
  auto params = corral({"show", "teller", "--parameters"});
  EXPECT_NE(params.out.find("temperature                    0.5"), std::string::npos) << params.out;
  EXPECT_NE(params.out.find("stop                           \"<end>\""), std::string::npos) << params.out;
  auto modelfile = corral({"show", "teller", "--modelfile"});
  for (const char* l :
       {"\nTEMPLATE {{ if .System }}<s>{{ .System }}</s>{{ end }}{{ .Prompt }}\n", "\nSYSTEM You are a storyteller.\n",
        "\nPARAMETER temperature 0.5\n", "\nPARAMETER stop <end>\n", "\nMESSAGE user Tell me a story\n",
        "\nMESSAGE assistant Once upon a time\n", "\nLICENSE \"First license line\nSecond line\nThird line\"\n"})
    EXPECT_NE(modelfile.out.find(l), std::string::npos) << l << " in\n" << modelfile.out;
  auto info = corral({"show", "teller"});
  EXPECT_NE(info.out.find("  System\n    You are a storyteller.    \n\n"), std::string::npos) << info.out;
  // Only the first two lines of the license, as Ollama shows it.
  EXPECT_NE(info.out.find("  License\n    First license line    \n    Second line           \n\n"), std::string::npos)
      << info.out;

  // The same Modelfile again: the blob is already there, nothing is uploaded twice.
  auto again = corral({"create", "teller", "-f", mf});
  EXPECT_EQ(again.exit_code, 0) << again.err;

  auto cp = corral({"cp", "teller", "teller-copy"});
  EXPECT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(cp.out, "copied 'teller' to 'teller-copy'\n");
  auto ls = corral({"ls", "teller"});
  ASSERT_EQ(ls.exit_code, 0);
  std::istringstream rows(ls.out);
  std::string header, a, b;
  std::getline(rows, header);
  std::getline(rows, a);
  std::getline(rows, b);
  const size_t id = header.find("ID");
  EXPECT_EQ(a.substr(id, 12), b.substr(id, 12)) << ls.out;  // a copy has the same manifest digest

  auto rm = corral({"rm", "teller-copy"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, "deleted 'teller-copy'\n");
  auto rm_again = corral({"rm", "teller-copy"});
  EXPECT_EQ(rm_again.exit_code, 1);
  EXPECT_EQ(rm_again.err, "Error: model 'teller-copy' not found\n");
  EXPECT_NE(corral({"ls"}).out.find("teller:latest"), std::string::npos);  // the original stays
}

TEST_F(CliManage, CreateFromAnotherModelName) {
  ASSERT_EQ(corral({"create", "base", "-f", write_modelfile("Base", "FROM ./stories.gguf\n")}).exit_code, 0);
  auto c = corral({"create", "derived", "-f", write_modelfile("Derived", "FROM base\nSYSTEM Be brief.\n")});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(corral({"show", "derived", "--system"}).out, "Be brief.");
}

TEST_F(CliManage, CreateErrorsAreOneLine) {
  auto parse = corral({"create", "bad", "-f", write_modelfile("Bad", "FROM ./stories.gguf\nFORM oops\n")});
  EXPECT_EQ(parse.exit_code, 1);
  EXPECT_NE(parse.err.find("Error: line 2: "), std::string::npos) << parse.err;
  EXPECT_EQ(std::count(parse.err.begin(), parse.err.end(), '\n'), 1) << parse.err;

  auto unknown = corral({"create", "bad", "-f", write_modelfile("Unknown", "FROM no-such-base\n")});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("Error: "), std::string::npos);
  EXPECT_NE(unknown.err.find("no-such-base"), std::string::npos) << unknown.err;

  auto q = corral({"create", "bad", "-q", "q4_0", "-f", write_modelfile("Q", "FROM ./stories.gguf\n")});
  EXPECT_EQ(q.exit_code, 1);
  EXPECT_NE(q.err.find("Error: quantization is not supported yet\n"), std::string::npos) << q.err;

  auto missing = corral({"create", "bad", "-f", *dir_ + "/work/NoSuchFile"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "Error: specified Modelfile wasn't found\n");
  EXPECT_EQ(corral({"ls", "bad"}).out.find("bad:"), std::string::npos);
}

// The server reads no path a request names, so `corral create` imports a local GGUF itself: it
// hashes the file next to the Modelfile, finds the server lacks that blob (HEAD 404), uploads it
// with a progress bar and names it in "files". The server's store (a folder of its own) then
// holds the blob, and the model runs.
TEST_F(CliManage, CreateUploadsALocalGgufTheServerLacks) {
  const std::string work = *dir_ + "/upload";
  fs::create_directories(work);
  // A GGUF no other test uploads, as a real file (not a link) next to the Modelfile.
  fs::copy_file(test_data_path("models/tinystories-656k-f32.gguf"), work + "/local model.gguf");
  const std::string digest = store::Sha256::of(read_file(work + "/local model.gguf")).str();
  const std::string blob = *dir_ + "/models/blobs/sha256-" + digest.substr(7);
  ASSERT_FALSE(fs::exists(blob));
  ASSERT_EQ(http_request("HEAD", server_->url("/api/blobs/" + digest)).status, 404);
  std::ofstream(work + "/Modelfile") << "FROM \"./local model.gguf\"\nSYSTEM Uploaded.\nPARAMETER num_predict 4\n";

  auto c = corral({"create", "uploaded", "-f", work + "/Modelfile"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.err.find("copying file " + digest), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("100%"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("success\n"), std::string::npos) << c.err;
  EXPECT_TRUE(fs::exists(blob));
  EXPECT_EQ(fs::file_size(blob), fs::file_size(work + "/local model.gguf"));
  EXPECT_EQ(http_request("HEAD", server_->url("/api/blobs/" + digest)).status, 200);
  EXPECT_EQ(corral({"show", "uploaded", "--system"}).out, "Uploaded.");
  auto run = corral({"run", "uploaded", "Once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;

  // The same Modelfile again: the server has the blob, nothing is uploaded twice.
  auto again = corral({"create", "uploaded", "-f", work + "/Modelfile"});
  ASSERT_EQ(again.exit_code, 0) << again.err;

  // `show --modelfile` prints FROM <the server's blob path>: creating from it names that blob by
  // its digest, whether the path exists on the client's machine or not (a remote server).
  std::ofstream(work + "/Shown") << corral({"show", "uploaded", "--modelfile"}).out;
  auto shown = corral({"create", "from-shown", "-f", work + "/Shown"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(corral({"show", "from-shown", "--system"}).out, "Uploaded.");
  std::ofstream(work + "/Remote") << "FROM /no/such/folder/sha256-" + digest.substr(7) + "\n";
  auto remote = corral({"create", "from-remote", "-f", work + "/Remote"});
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  const std::string absent = "sha256-" + std::string(64, 'e');
  std::ofstream(work + "/Absent") << "FROM /no/such/folder/" + absent + "\n";
  auto none = corral({"create", "from-absent", "-f", work + "/Absent"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no such file here, and the server has no blob sha256:" + std::string(64, 'e')),
            std::string::npos)
      << none.err;
}

TEST_F(CliManage, LocalFileProblemsAreReportedByTheClient) {
  const std::string work = *dir_ + "/work";
  std::ofstream(work + "/notes.txt") << "not a model";
  auto missing = corral({"create", "bad", "-f", write_modelfile("Missing", "FROM ./missing.gguf\n")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("Error: line 1: FROM ./missing.gguf: no such file\n"), std::string::npos) << missing.err;
  auto not_gguf = corral({"create", "bad", "-f", write_modelfile("NotGguf", "FROM ./notes.txt\n")});
  EXPECT_EQ(not_gguf.exit_code, 1);
  EXPECT_NE(not_gguf.err.find("Error: line 1: FROM ./notes.txt: supplied file was not in GGUF format: "),
            std::string::npos)
      << not_gguf.err;
  auto folder = corral({"create", "bad", "-f", write_modelfile("Folder", "FROM .\n")});
  EXPECT_EQ(folder.exit_code, 1);
  EXPECT_NE(folder.err.find("is a directory"), std::string::npos) << folder.err;
  auto adapter =
      corral({"create", "bad", "-f", write_modelfile("Adapter", "FROM ./stories.gguf\nADAPTER ./lora.gguf\n")});
  EXPECT_EQ(adapter.exit_code, 1);
  EXPECT_EQ(adapter.err, "Error: line 2: ADAPTER is not supported yet\n");
  auto mixed = corral({"create", "bad", "-f", write_modelfile("Mixed", "FROM base-for-mixed\nFROM ./stories.gguf\n")});
  EXPECT_EQ(mixed.exit_code, 1);
  EXPECT_NE(mixed.err.find("not supported yet"), std::string::npos) << mixed.err;
  EXPECT_EQ(corral({"ls", "bad"}).out.find("bad:"), std::string::npos);
}

TEST_F(CliManage, CopyErrors) {
  auto r = corral({"cp", "no-such", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: model \"no-such\" not found\n");
  auto bad = corral({"cp", "a", "bad/name/with/too/many"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("is invalid"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace corral::testing
