// An incremental byte-level JSON recogniser: a pushdown automaton with an explicit stack of
// container frames (no recursion on input), driven by a JsonProgram (json_schema.h) that says
// which values are allowed where. Fed one byte at a time, it rejects a byte as soon as no
// valid continuation can follow it, and every state it accepts can still be completed
// (bytes_to_complete()), so constrained generation never paints itself into a corner.
//
// With a program from json_any_program(false) and unlimited JsonLimits it accepts exactly the
// texts a strict JSON parser accepts (RFC 8259: UTF-8 validated, surrogate escapes paired),
// up to kMaxJsonDepth nesting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sampling/json_schema.h"
#include "sampling/utf8.h"

namespace corral::sampling {

class JsonConstraint {
 public:
  // The program must outlive the constraint (and every copy of it).
  explicit JsonConstraint(const JsonProgram* program);

  // Advances by one byte. On false the byte is not acceptable and the object is left in an
  // unspecified state: step a copy (copy_from) when the byte might be rejected.
  bool step(uint8_t byte);
  bool feed(std::string_view bytes);  // step() over every byte; false at the first rejection
  // Whether the bytes so far form a complete value that satisfies the program.
  bool complete() const;
  // A shortest byte string after which complete() holds ("" if it already does).
  std::string bytes_to_complete() const;
  // Copies only the live part of other's state (cheap: the trie walk copies once per node).
  void copy_from(const JsonConstraint& other);
  // Inside a string with no length limit, between characters: any UTF-8 text without '"',
  // '\\' and control characters is acceptable here (TokenTrie::kStringContent).
  bool in_free_string() const;

 private:
  enum Mode : uint8_t {
    kValue,        // expecting a value of node
    kArrayFirst,   // after '['
    kObjectFirst,  // after '{'
    kObjectKey,    // after ',' in an object
    kColon,        // after a key
    kAfterValue,   // after a value inside a container
    kDone,         // the top-level value is complete
    kString,       // inside a string (sub: StringSub)
    kNumber,       // inside a number (sub: NumberSub)
    kLiteral,      // matching one of literals[lit_lo, lit_hi) (sub unused)
  };
  enum FrameKind : uint8_t { kArrayFrame, kPropsFrame, kMapFrame };
  struct Frame {
    uint32_t node;
    uint32_t count;  // array: items begun; object with properties: next property index
    FrameKind kind;
  };
  enum Outcome { kTaken, kRejected, kEnded };  // kEnded: the token ended; re-read the byte

  // Everything but the frame stack, so copy_from can copy just this plus the live frames.
  struct Header {
    const JsonProgram* program;
    uint32_t node;                     // value being read (string, number, literal) or expected (kValue)
    uint32_t str_len;                  // code points so far in the current string
    uint32_t lit_lo, lit_hi, lit_cur;  // literal candidates; lit_cur = first matching one
    uint16_t lit_pos;                  // bytes of the literal matched
    uint16_t digits;                   // digits in the current part of a number
    uint16_t hex;                      // value of the \u digits read so far
    uint8_t mode, sub, depth, ws_run;
    Utf8Cursor utf8;  // position inside a multi-byte character of a string
    bool key;         // the string or literal being read is an object key
  };

  const SchemaNode& node(uint32_t id) const { return h_.program->nodes[id]; }
  Frame& top() { return frames_[h_.depth - 1]; }
  const Frame& top() const { return frames_[h_.depth - 1]; }

  bool structural(uint8_t b);
  bool start_value(uint8_t b);
  Outcome string_byte(uint8_t b);
  // string_byte's states: plain text, after a backslash, \uXXXX digits, a low surrogate's \uDCxx.
  Outcome string_plain_byte(uint8_t b);
  Outcome string_escape_byte(uint8_t b);
  Outcome string_hex_byte(uint8_t b);
  Outcome string_low_surrogate_byte(uint8_t b);
  Outcome number_byte(uint8_t b);
  Outcome literal_byte(uint8_t b);
  // Index of a literal in [lit_cur, lit_hi) equal to the matched prefix, or kNoNode.
  uint32_t exact_literal() const;
  void end_literal(uint32_t literal);
  // A value literal ended: if it was a tagged union's discriminator, switch to its branch.
  void resolve_tag(uint32_t literal);
  void begin_literal(uint32_t lo, uint32_t hi, bool key);
  void begin_string(bool key);
  void finish_value();
  bool push(uint32_t node, FrameKind kind);
  bool required_left(const Frame& f) const;
  bool number_can_end() const;
  void complete_step(std::string& out);

  Header h_;
  Frame frames_[kMaxJsonDepth];  // [depth] open containers, outermost first
};

}  // namespace corral::sampling
