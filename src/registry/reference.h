// Where a model lives in a registry: a model name (store/model_name.h) plus the scheme to reach
// its host, and the URLs of the Docker registry v2 API that Ollama's registry speaks:
//
//   <scheme>://<host>/v2/<namespace>/<model>/manifests/<tag>
//   <scheme>://<host>/v2/<namespace>/<model>/blobs/<digest>
//   <scheme>://<host>/v2/<namespace>/<model>/blobs/uploads/
//
// The scheme follows Ollama (server/modelpath.go, images.go): https unless the request is
// "insecure", which switches to plain http; a name spelled "http://host/..." without insecure
// is refused ("insecure protocol http"), so plain http is always an explicit choice.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "store/digest.h"
#include "store/model_name.h"

namespace corral::registry {

struct Reference {
  std::string scheme;     // "https" or "http"
  store::ModelName name;  // host, namespace, model, tag (defaults filled in)

  // Parses a model name as /api/pull and /api/push receive it.
  static Result<Reference> parse(std::string_view text, bool insecure);

  std::string base_url() const { return scheme + "://" + name.host; }
  std::string repository() const { return name.ns + "/" + name.model; }  // "<namespace>/<model>"
  std::string manifest_url() const;
  std::string blob_url(const store::Digest& d) const;
  std::string uploads_url() const;
};

// Resolves a Location header (absolute, or a path on the registry) against `base_url`.
std::string resolve_location(const std::string& base_url, std::string_view location);

}  // namespace corral::registry
