// The bounds of what parse_modelfile reads (store/modelfile.h) and of what /api/create and
// `corral create` take in the same shape. The parser is one pass over the text, a state machine
// with a fixed set of states: no recursion, nothing nested.
#pragma once

#include <cstddef>

namespace corral::store {

// What a Modelfile may hold; past any of these parse_modelfile fails with a message naming the
// bound. Generous for real Modelfiles (a long chat template is a few KiB) while keeping the memory
// a request can make the parser hold small and bounded; the HTTP body limit is 32 MiB.
inline constexpr size_t kMaxModelfileBytes = 8 << 20;  // the whole text
// One line: room for a one-line TEMPLATE or SYSTEM of 1 MiB (their layers' bound) and its keyword.
inline constexpr size_t kMaxModelfileLineBytes = 2 << 20;
inline constexpr int kMaxModelfileLines = 1 << 20;
inline constexpr size_t kMaxModelfileCommands = 8192;
inline constexpr size_t kMaxModelfileMessages = 4096;  // also the bound of /api/create's "messages"
inline constexpr size_t kMaxModelfileFroms = 16;       // each FROM is a layer: model, projectors

}  // namespace corral::store
