// IQ4_NL, IQ4_XS and MXFP4 tensors through the whole read path: GGUF files written with
// corral's writer and opened (mapped) with its reader, then rows decoded with the active
// kernels; and the real MXFP4 expert tensors of the synthetic gpt-oss model (quantized from
// its f32 twin by llama-quantize) decoded and compared with that twin.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/test_data.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

using gguf::GgufFile;
using gguf::GgufWriter;
using gguf::TensorInfo;

// Every row of a tensor decoded with the active kernels ([rows][ne[0]]).
std::vector<float> decode_tensor(const TensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  for (int64_t r = 0; r < t.rows(); ++r) {
    dequantize_row(t.type, t.data + r * t.row_bytes(), out.data() + r * t.ne[0], t.ne[0]);
  }
  return out;
}

TEST(Lut4Gguf, WrittenTensorsReadBackAndDecode) {
  struct Case {
    std::string name;
    DType type;
    std::vector<int64_t> ne;  // ggml order: ne[0] is the row length
  };
  const std::vector<Case> cases = {
      {"iq4_nl.weight", DType::kIQ4_NL, {96, 3}},
      {"iq4_xs.weight", DType::kIQ4_XS, {512, 2}},
      {"mxfp4_exps.weight", DType::kMXFP4, {64, 3, 2}},  // experts as a third dimension
  };
  const KernelTable& generic = kernel_table(IsaLevel::kGeneric);
  GgufWriter writer;
  writer.set_string("general.architecture", "test");
  std::vector<std::vector<float>> originals, expected;
  for (size_t c = 0; c < cases.size(); ++c) {
    int64_t count = 1;
    for (int64_t d : cases[c].ne) count *= d;
    originals.push_back(normal_values(count, static_cast<uint32_t>(40 + c), 0.5f));
    const std::vector<uint8_t> bytes = encode(generic, cases[c].type, originals.back());
    expected.push_back(decode(generic, cases[c].type, bytes.data(), count));
    writer.add_tensor(cases[c].name, cases[c].type, cases[c].ne, std::string(bytes.begin(), bytes.end()));
  }
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("corral-lut4-" + std::to_string(getpid()) + ".gguf");
  ASSERT_TRUE(writer.write_file(path.string()).is_ok());
  auto opened = GgufFile::open(path.string());
  std::filesystem::remove(path);  // the mapping stays valid after the name is gone
  ASSERT_TRUE(opened.is_ok()) << opened.error();
  const GgufFile& file = **opened;
  ASSERT_EQ(file.tensors().size(), cases.size());
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE(cases[c].name);
    const TensorInfo* t = file.find_tensor(cases[c].name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, cases[c].type);
    EXPECT_EQ(t->n_dims, static_cast<int>(cases[c].ne.size()));
    EXPECT_EQ(t->nbytes, dtype_row_bytes(t->type, t->ne[0]) * t->rows());
    const std::vector<float> got = decode_tensor(*t);
    ASSERT_EQ(got, expected[c]);  // the bytes survived the file: decoding gives the same bits
    EXPECT_LE(relative_rmse(got, originals[c]), round_trip_bound(t->type));
  }
}

// The MXFP4 expert tensors of syn-gptoss-mxfp4.gguf against the same tensors in
// syn-gptoss-f32.gguf, which they were quantized from (README-new-archs.md section 6). Checked:
// (1) every decoded value is an E2M1 value times its block's 2^(e - 128), worked out here from
// the exponent byte, and the block's largest |value| is within the top of the grid (8 or 12
// half-units) as the reference quantizer's choice of e implies; (2) e is the exponent ggml's
// quantizer derives from the f32 block, floor(log2(amax)) - 2 + 127; (3) the quantization
// error is that of MXFP4 on normal data: normalized MSE (sum of squared errors over the sum of
// squares) 0.0136 for N(0, 1) values, below 0.02 here; and the file's bytes are what
// corral's quantizer writes from the f32 tensor.
TEST(Lut4Gguf, GptOssMxfp4ExpertsMatchTheirF32Source) {
  auto mx = GgufFile::open(corral::testing::test_data_path("models/synthetic/syn-gptoss-mxfp4.gguf"));
  auto f32 = GgufFile::open(corral::testing::test_data_path("models/synthetic/syn-gptoss-f32.gguf"));
  ASSERT_TRUE(mx.is_ok()) << mx.error();
  ASSERT_TRUE(f32.is_ok()) << f32.error();
  const std::set<double> half_units = {0, 1, 2, 3, 4, 6, 8, 12};
  int checked = 0;
  for (const TensorInfo& t : (*mx)->tensors()) {
    if (t.type != DType::kMXFP4) continue;
    SCOPED_TRACE(t.name);
    ++checked;
    const TensorInfo* source = (*f32)->find_tensor(t.name);
    ASSERT_NE(source, nullptr);
    ASSERT_EQ(source->type, DType::kF32);
    ASSERT_EQ(source->n_elements(), t.n_elements());
    const std::vector<float> got = decode_tensor(t);
    const auto* want = reinterpret_cast<const float*>(source->data);
    const auto* blocks = reinterpret_cast<const BlockMXFP4*>(t.data);
    double err = 0, sig = 0;
    for (int64_t b = 0; b < t.n_elements() / 32; ++b) {
      const int e = blocks[b].e;
      double amax_source = 0, amax_got = 0;
      for (int j = 0; j < 32; ++j) {
        const double v = got[b * 32 + j], x = want[b * 32 + j];
        const double units = std::fabs(v) / std::ldexp(1.0, e - 128);
        ASSERT_EQ(half_units.count(units), 1u) << "block " << b << " value " << v << " e " << e;
        amax_source = std::max(amax_source, std::fabs(x));
        amax_got = std::max(amax_got, std::fabs(v));
        err += (v - x) * (v - x);
        sig += x * x;
      }
      ASSERT_EQ(e, static_cast<int>(std::floor(std::log2(amax_source))) - 2 + 127) << "block " << b;
      const double top = amax_got / std::ldexp(1.0, e - 128);
      ASSERT_TRUE(top == 8 || top == 12) << "block " << b << " largest value at " << top << " half-units";
    }
    EXPECT_LT(err / sig, 0.02);
    EXPECT_GT(err / sig, 0.005);  // not suspiciously exact: the f32 twin is the source, not a decode
    // Re-quantizing the f32 source with corral's quantizer gives the file's bytes.
    const std::vector<float> source_values(want, want + source->n_elements());
    const std::vector<uint8_t> requantized = encode(kernel_table(IsaLevel::kGeneric), DType::kMXFP4, source_values);
    EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.nbytes), requantized);
  }
  EXPECT_EQ(checked, 6);  // ffn_{gate,up,down}_exps of both layers
}

}  // namespace
}  // namespace corral::kernels::testing
