// Model names as Ollama spells them: [scheme://][host/][namespace/]model[:tag], with the
// defaults registry.ollama.ai / library / latest (Ollama's types/model/name.go).
//
// Validation is Ollama's, part by part:
//   host       1..350 bytes, first [A-Za-z0-9_], then also '-' '.' ':'   ("host:port")
//   namespace  1..80 bytes,  first [A-Za-z0-9_], then also '-'
//   model      1..80 bytes,  first [A-Za-z0-9_], then also '-' '.'
//   tag        1..80 bytes,  first [A-Za-z0-9_], then also '-' '.'
// Nothing else is accepted: no '/', NUL, non-ASCII, or leading '.', so no part can be "." or
// "..", and a valid name always maps to manifests/<host>/<namespace>/<model>/<tag> strictly inside
// the store. Two Ollama extensions are not accepted: the "@digest" suffix (current Ollama no
// longer parses it either) and the skill/agent/mcp "kind" segment (those are not models).
//
// Case: Ollama keeps the case a name was written in and compares names case-insensitively
// (Name.EqualFold); on a case-sensitive disk "Mistral" and "mistral" are different directories,
// so Ollama's create/copy/delete first map each part onto the spelling already on disk. The
// store does the same (store.h): lookups try the exact spelling, then a unique case-insensitive
// match; writes reuse an existing spelling, so a store never holds two names that differ only
// in case.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace corral::store {

constexpr std::string_view kDefaultHost = "registry.ollama.ai";
constexpr std::string_view kDefaultNamespace = "library";
constexpr std::string_view kDefaultTag = "latest";

struct ModelName {
  std::string host;
  std::string ns;  // namespace
  std::string model;
  std::string tag;

  // Parses and fills missing parts with the defaults; any invalid part is an error naming it.
  static Result<ModelName> parse(std::string_view text);

  // "host/namespace/model:tag".
  std::string full() const;
  // What `ollama list` shows: "model:tag" under the default host and namespace,
  // "namespace/model:tag" under the default host, else the full name. Defaults compare
  // case-insensitively, as in Ollama's DisplayShortest.
  std::string display() const;
  // "<host>/<namespace>/<model>/<tag>", relative to manifests/.
  std::string relative_path() const;

  // Case-insensitive equality of every part (Ollama's EqualFold).
  bool equal_fold(const ModelName& o) const;
  bool operator==(const ModelName& o) const { return host == o.host && ns == o.ns && model == o.model && tag == o.tag; }
};

enum class NamePart { kHost, kNamespace, kModel, kTag };
// Whether `s` is a valid value for that part (the table above).
bool is_valid_name_part(NamePart part, std::string_view s);

// ASCII-only case-insensitive comparison (names are ASCII by construction).
bool equal_fold(std::string_view a, std::string_view b);

}  // namespace corral::store
