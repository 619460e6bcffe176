// A constraint on which tokens may come next (structured output). The Sampler consults it
// before choosing; the filter follows the sequence's generated tokens through accept().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace corral::sampling {

class TokenFilter {
 public:
  virtual ~TokenFilter() = default;

  // Sets mask[t] = 1 for every token t that may come next and 0 for the others.
  // mask.size() must be the vocabulary size.
  virtual void allowed(std::vector<uint8_t>& mask) = 0;
  // Whether one token may come next (cheaper than a whole mask).
  virtual bool allows(int32_t token) const = 0;
  // Advances past a generated token. Returns false, changing nothing, when the token is not
  // allowed.
  virtual bool accept(int32_t token) = 0;
  // Whether the output so far is a complete, valid text (the end-of-generation token is
  // allowed exactly then).
  virtual bool complete() const = 0;
  // A shortest byte string that makes the output complete ("" when it already is): lets the
  // engine close the value when the token budget runs out.
  virtual std::string bytes_to_complete() const = 0;
};

}  // namespace corral::sampling
