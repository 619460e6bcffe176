// Our quantizers write the bytes llama.cpp writes. The expected encodings below are copied
// from files made by llama.cpp b4748's llama-quantize (no importance matrix, so ggml's *_ref
// quantizers): row 0 of blk.0.attn_q.weight (256 values, N(0, 0.08^2)) in
// shared/models/synthetic/syn-llama-<type>.gguf, with the same row of syn-llama-f32.gguf as
// the input. The whole of every tensor in those files was checked the same way once; this
// row keeps the check in the unit tests without the model files.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "kernel_test_util.h"

namespace corral::kernels::testing {
namespace {

// The f32 input, as bit patterns so it is exact.
constexpr uint32_t kGoldenInput[256] = {
    0xbd8c4936, 0x3d740177, 0x3d88d111, 0x3c90c6f4, 0x3de139dc, 0xbcf0a22a, 0xbdb6a5f0, 0xbcd929fe, 0x3d565ad8,
    0xbd249325, 0x3c41ae48, 0x3b143b24, 0x3da68e8d, 0xbdf00664, 0x3e073318, 0x3a356561, 0xbd72485f, 0x3d02305b,
    0xbde9a6f3, 0x3d80f22d, 0xbe09d26a, 0x3d891282, 0xbe07b39a, 0x3ddf8fe6, 0xbd44a6c4, 0xbbfe1556, 0x3d6311e4,
    0xbe9fcbab, 0x3d3e42f2, 0x3dddd8dc, 0x3cc2b97e, 0xbca90b0b, 0xbda3d23f, 0x3d9c8622, 0x3c5187f5, 0xbe4d2a35,
    0xbde40f12, 0xbb6de067, 0xbd08a251, 0x3d94f3d4, 0xbd4cd447, 0x3de586f6, 0xbdae0c18, 0xbd9b5e36, 0xbd305f69,
    0xbbf2f88a, 0xbd7f5e13, 0xbd1c0e12, 0xbdb8e626, 0x3dea4643, 0xbe00fddd, 0x3d332c5d, 0xbd4a79a3, 0x3d9f7ac7,
    0x3d710648, 0x3c16769c, 0x3d57f62b, 0xbc3a7abc, 0x3c2bea11, 0xbdcb051a, 0xbd5f8a37, 0xbda33e15, 0x3d0c281c,
    0xbc016f6a, 0xbccfcbbe, 0xbcdfba20, 0x3d755e98, 0xbd99c016, 0xbd0bc01b, 0x3caea6dc, 0x3d8a5403, 0xbd23841d,
    0x3ce20bc5, 0xbe076891, 0xbe2fb307, 0x3ca48c7d, 0x3bf35d95, 0x3dd0bfd6, 0xbdbffe3d, 0x3cc98598, 0x3ccf292c,
    0xbd96d934, 0x3d7cbb3b, 0x3bb26009, 0xbe2e4903, 0x3cb7e6d8, 0xbdb67af2, 0x3be7adb9, 0x3cd4840d, 0xbdffbeb4,
    0x3e2b3dcc, 0xbe1628f6, 0x3d68cf50, 0x3bf1dc98, 0x3bdc1039, 0xbcb832a0, 0xba70a699, 0xbdf4c6f3, 0xbc0ff340,
    0xbd37dfe1, 0x3d841d63, 0xbc9d4dcc, 0xbab5e0e6, 0x3cb7f282, 0x3e20af00, 0xbc3c106d, 0x3cedd097, 0xbbfa7d41,
    0xbd8b9872, 0x3d754e0f, 0xbcc181a2, 0x3e52e544, 0xbcf0b4b6, 0x3e19aa3e, 0x3deec4f2, 0xbb2ba6f6, 0x3d314022,
    0x3e2146b3, 0xbd3dde39, 0x3dca6298, 0x3d463f43, 0xbcbc110f, 0x3cdd76a3, 0xbdf1afba, 0xbc4a43ca, 0xbdc21824,
    0xbcb4d87f, 0xbd1ad5b6, 0x3b251177, 0xbd4993d4, 0x3dc17579, 0x3d4c7e18, 0x3d4af59c, 0x3d45d40d, 0xbc7dd31d,
    0xbdd9c9a3, 0xbaf2fcff, 0xbcdfd3a1, 0xbbe62fec, 0xbd2d8cea, 0x3d0aa39b, 0x3e05e328, 0xb9374ef2, 0x3cba3d16,
    0x3c0e8389, 0x3a461d47, 0xbc3d4607, 0xbc4e6766, 0x3d44f32e, 0x3d83947f, 0x3c8650f7, 0xbc0c27d2, 0x3d9290d3,
    0x3cc6c3a8, 0xbdfe3169, 0x3d9bf91f, 0xbd60937d, 0xbd622927, 0x3cc2842f, 0x3b7a239f, 0xbd89d15e, 0x3d9e69dd,
    0xbd8b2a22, 0xbcaaf9fa, 0xbe446491, 0x3bb85a92, 0xbb9f4c40, 0xbe4d9a99, 0xbded9def, 0x3dc5befb, 0x3df13f98,
    0x3b70a0ab, 0xbe475466, 0x3d5f31dc, 0x3c97e7c0, 0x3bf460ba, 0xbc8b4530, 0xbd14c2b4, 0xbda0d33e, 0x3dbf933d,
    0x3d6f8d00, 0xbc6fe7ca, 0xbdd04911, 0xbcb2ee0f, 0xbd7c45c1, 0x3e089c8b, 0xbbc72e79, 0xbe216d5e, 0xbd3bdb9e,
    0x3d21ba0f, 0x3d6de68c, 0x3c491998, 0xbd38b195, 0xbd7e5783, 0x3c8e7bd6, 0xbc6787e9, 0xbd1cba29, 0x3cfcee21,
    0x3c33d99a, 0x3e38b930, 0xbcb1fbc2, 0xbde43325, 0xbd8eead9, 0x3d073b50, 0xbc6f9f5b, 0xbb97a5de, 0x3db17e2f,
    0x3c271d1e, 0x3c48235f, 0xbda968d8, 0x3dcb3fe9, 0xbbffddcb, 0xbd9577aa, 0xbd89cda3, 0xbd81f398, 0xbbd6705b,
    0xbdf32a44, 0x3d2071a4, 0x3b4e3f1f, 0xbe494213, 0x3d92c0a7, 0x3e304a77, 0x3c0e075b, 0x3cda6787, 0xbc620d8f,
    0xbdee9687, 0x3e1f1650, 0xbdf96a08, 0xbe5037ef, 0xbc525dde, 0xbe1478d4, 0xbdd75b3e, 0x3e206843, 0x3d4a1ac5,
    0xbc76541e, 0xbd559737, 0x3d36c655, 0xbcb15350, 0xbc629b92, 0xbdc895f0, 0xbd266d43, 0xbdfdfdb9, 0xbceb3d56,
    0xbd17c47b, 0x3cee524e, 0x3d342cf8, 0x3e0a82f5, 0x3bb45475, 0x3d11c7bc, 0x3d57c297, 0x3c936758, 0x3d726b60,
    0x3dca383d, 0xbdb5046c, 0x3e14e62e, 0xbd3ab995,
};

struct GoldenEncoding {
  DType type;
  const char* hex;  // the encoded row, two hex digits per byte
};

const GoldenEncoding kGolden[] = {
    {DType::kF16,
     "62aca02b472c86240a2f85a7b5adc9a6b32a25a90d22a218342d80af3a30ab1192ab12284daf082c4fb0492c"
     "3eb0fc2e25aaf19f192bfeb4f229ef2e162648a51fade42c8c2269b220af6f9b45a8a82c67aa2c2f70addbac"
     "83a9989ffbabe0a8c7ad522f08b0992954aafc2c882bb420c02ad4a15f2158aefcaa1aad61280ba07ea6fea6"
     "ab2bceac5ea87525532c1ca910273bb07eb124259b1f862e00ae4c267926b7ace62b931d72b1bf25b4ad3d1f"
     "a426feaf5a31b1b0462b8f1fe11ec2a58593a6af80a0bfa9212ceaa4af95c0250531e1a16f27d49f5dacaa2b"
     "0ca6973286a7cd30762f5d998a290a31efa9532e322ae1a5ec268daf52a211aea7a5d7a829194daa0c2e642a"
     "582a2f2aefa3ceae9897ffa6319f6ca955282f30ba89d22574203112eaa173a2282a1d2c332461a0952c3626"
     "f2afe02c05ab11ab1426d11b4facf32c59ac58a523b2c31dfa9c6db26daf2e2e8a2f851b3bb2fa2abf24a31f"
     "5aa4a6a807adfd2d7c2b7fa382ae97a5e2ab4530399e0bb1dfa90e296f2b4922c6a9f3ab74243ca3e6a8e727"
     "9f21c63190a522af77ac3a287da3bd9c8c2d392141224bad5a2eff9facac4eac10acb49e99af0429721a4ab2"
     "962c82317020d32610a375aff930cbaf82b293a2a4b0bbae0331512ab3a3adaab6298ba515a345ae33a9f0af"
     "5aa7bea87327a1295430a31d8e28be2a9b24932b522ea8ada730d6a9"},
    {DType::kBF16,
     "8cbd743d893d913ce13df1bcb7bdd9bc563d25bd423c143ba73df0bd073e353a72bd023deabd813d0abe893d"
     "08bee03d45bdfebb633da0be3e3dde3dc33ca9bca4bd9d3d523c4dbee4bd6ebb09bd953d4dbde63daebd9bbd"
     "30bdf3bb7fbd1cbdb9bdea3d01be333d4abd9f3d713d163c583d3abc2c3ccbbd60bda3bd0c3d01bcd0bce0bc"
     "753d9abd0cbdaf3c8a3d24bde23c07be30bea53cf33bd13dc0bdca3ccf3c97bd7d3db23b2ebeb83cb6bde83b"
     "d53c00be2b3e16be693df23bdc3bb8bc71baf5bd10bc38bd843d9dbcb6bab83c213e3cbcee3cfabb8cbd753d"
     "c2bc533ef1bc1a3eef3d2cbb313d213e3ebdca3d463dbcbcdd3cf2bd4abcc2bdb5bc1bbd253b4abdc13d4c3d"
     "4b3d463d7ebcdabdf3bae0bce6bb2ebd0b3d063e37b9ba3c0f3c463a3dbc4ebc453d843d863c0cbc933dc73c"
     "febd9c3d61bd62bdc33c7a3b8abd9e3d8bbdabbc44beb83b9fbb4ebeeebdc63df13d713b47be5f3d983cf43b"
     "8bbc15bda1bdc03d703d70bcd0bdb3bc7cbd093ec7bb21be3cbd223d6e3d493c39bd7ebd8e3c68bc1dbdfd3c"
     "343c393eb2bce4bd8fbd073d70bc98bbb13d273c483ca9bdcb3d00bc95bd8abd82bdd6bbf3bd203d4e3b49be"
     "933d303e0e3cda3c62bcefbd1f3ef9bd50be52bc14bed7bd203e4a3d76bc56bd373db1bc63bcc9bd26bdfebd"
     "ebbc18bdee3c343d0b3eb43b123d583d933c723dca3db5bd153e3bbd"},
    {DType::kQ4_0,
     "fe28669a5aa85ba756b7798798089ab59b78692645db39a064b8a78ba68c8545665896867e259757bb840699"
     "4b869922f019b88d847997a6982d388a6529a847629877d88bc699902fa4788b92955545799f487af83bb6b0"
     "78876d26757b55c7a078487063dc8d2860aaa9884a268655c9875659588f37a38509b7f88c98822667337e73"
     "90a7d2849eaa97a6ca57e764"},
    {DType::kQ4_1,
     "9427feb498cd7ddb6eda68ea9ca9cb0bcde7bfab5f2569b256fd4ac074d9c8adc79fa5567769b798c8257eb1"
     "9646aa8406994b869922f018a88c83798e25a6af45c0b55388d535a78d4577055218444f5a24f2af87747d7a"
     "aaba8671c79607c5494f9789b4256db2867c56d8c089498064fd9e2970bbcaa96f264ab28655c9875659588f"
     "37938509b7f88b98252682b278347f73a0a8e294afbb98b6da58f874"},
    {DType::kQ5_0,
     "fe241eddaa76dc23a331963e9b6fe30e3100246a17f06922a602ea459a966130c7605d164cf9198acdaf3bfd"
     "7e2164b9ad752e9d66190d22861c2344f022511a17e297a26f5a49fa20497103db41408ec421ee91157b2230"
     "2fa0c34f8eb4f006142aaa8ae21d70d3f1757c70d00d6d2262ee18e6fbd6ab7e51f080e0b7b80930c0345111"
     "4a22e4e805f61c9b81ffadb3b1ff6e370a036fe0172182220413f05fdf67ecd6203fb5083c441f5c849ebfc8"},
    {DType::kQ5_1,
     "5623feb4ffdfabf7218aeaa7cda4d0d42953a7069bde7f46332169b2e6a2eac7bcfb7580f9b3a05b9f3f5bac"
     "efc37e3099217eb164b9ad752d9d55090d22860c2244f022500907e26021a6af10a1b6019ba06bb702aa7b5e"
     "0a9aee0ba521998f3620f2af3cb071cb0ff9ebe555751de28f2c0e8a838f2f0285216db26aeeb9e61cfabcb1"
     "81139210d8fc2e43e16884433a224ab2e4e88df61c9b820fadb3b10f6e370a036fe01721f22182b22577f05f"
     "e077ffe74050d5285f66307da5a0e0e9"},
    {DType::kQ8_0,
     "0819e4181b072df4dcf515f0050121d03600e80dd21ac91bca2cecfd1781132c0af87616cd300881b9feeb2e"
     "e047cad0e5fbd8e8c749b01ce131250621f907c1ddcd16fb8915edec2cc8e71032e2149e810f054bbb1213c9"
     "2e048211be0513a47c932a0505efa416ffb6fbe428f4ff0e61f912fbd625f17fee5d48fe1b61e33d1ef211b7"
     "f8c6f2e9381402d05c30302ff199fee5f9d7217f00160801f5f42f3e10f84618874acbca17047a16d531d5f3"
     "8704fd81b73d4b0285220c05f5e9ce3b25f7c0f2d954fc9ce31925085716e3d80bf7e7140775f2b8d315f7fd"
     "380708cb40fbd1d5d7fcb31902812e6f06118f16f7b761b481f8a5be621ff7df1cf2f7c3e7b3eee9121b5403"
     "16210b253ec95be4"},
    {DType::kQ2_K,
     "67ff98678689696857669888589aba67652e7a52a779786df64d467566b857f961dea16a85ea59aaa946ba00"
     "66266a56954dd65a129a5970d58d8d59929ba9596a16665e9a9bd69697aea883e539ea6a2f224e25"},
    {DType::kQ3_K,
     "d97ace6840af7d1bd4fbf13dcce7b865fc93d4ff30371af7167be7184ded7fff3aba1263f9012f395e19c808"
     "4ee32c1c473c5305de096a41cb60f1d4198944401c9acd8212324083c86928f14304208340ec6848f6f23900"
     "eedd00865eb60550de30ccc23eb9b6f0e2100c8df798"},
    {DType::kQ4_K,
     "610f101dbfeef6f37fa8a29795828b8869ddad0c4f9a88da7dfa5b6b7e977f8b59fc37cd76ddc6afc99bad50"
     "7d6fbc9a5606593486485a65c8416058278b43e848b4a95770c8339778426e014917473668c46d8a0a9a9601"
     "47d6e79509bfa799887757d7ba8b48876cf9902c74b4b9987635e8370679284ee7a37569a7777b4868347b67"
     "95a5d58793a998a0ca4ee868"},
    {DType::kQ5_K,
     "5b0b191dbfedf0f07fa8a298949176949123d73119f767438da3a16595fee17f750b4c27b0bf92af9ff3e790"
     "c565f773c1ba5b079e3400b4faf3b7c6fc3eef06b2f87e8bfdbbad5e93365aa0e9ce7835bd0da5791d92b6dc"
     "a2a3e0a2501997e2829965b0f0a277400294ef02a520908ec0a9cb1616352d028fbcdf3a148f4f3210ffbebe"
     "8517911ed8f22049e96982400c8bf17f0d03518ffe670ad35f000791e179f8ef4a5adb2f56633070a6aee1e2"},
    {DType::kQ6_K,
     "b0b2b02ca647c59654891d4f1d2bf1405a33b4161247021b5b9ff650a51b12ce032c12706e3f0bdc8822c214"
     "a97f461a691d801b7404afc26d5da387323c598e8fbcd92474b4e41a4037c2aa381010ea22300dfd4c5064fe"
     "d2661103c2c21641e6ec85dd12e1af018e8fe28172d8e3119db96083ac7d3bfc845bcf30b7381ca297d9a991"
     "50a6a75a258e45a5a4778426a11e21aa452e992a69857ac0a6e2aa95652ad42521591643e2ba6e5aa1685a59"
     "a6d6b59d5a571255476e644325f92aaa3880aeccb7b8574036cbabbf4cafaa3dfd84"},
};

std::vector<uint8_t> from_hex(const char* hex) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2) {
    bytes.push_back(static_cast<uint8_t>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
  }
  return bytes;
}

TEST(GgmlGolden, EncodingsMatchLlamaQuantize) {
  std::vector<float> x(256);
  std::memcpy(x.data(), kGoldenInput, sizeof kGoldenInput);
  for (const GoldenEncoding& g : kGolden) {
    SCOPED_TRACE(dtype_name(g.type));
    const std::vector<uint8_t> expected = from_hex(g.hex);
    ASSERT_EQ(expected.size(), dtype_row_bytes(g.type, 256));
    for (IsaLevel level : supported_levels()) {
      SCOPED_TRACE(isa_name(level));
      EXPECT_EQ(encode(kernel_table(level), g.type, x), expected);
    }
  }
}

}  // namespace
}  // namespace corral::kernels::testing
