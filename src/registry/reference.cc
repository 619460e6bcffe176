#include "registry/reference.h"

#include "base/quote.h"

namespace corral::registry {

Result<Reference> Reference::parse(std::string_view text, bool insecure) {
  std::string scheme = "https";
  if (size_t p = text.find("://"); p != std::string_view::npos) scheme = std::string(text.substr(0, p));
  // ModelName::parse drops the scheme itself (as Ollama's ParseName does) and validates every
  // part, so nothing below can put a '/' or ".." into a URL path or a store path.
  auto name = store::ModelName::parse(text);
  if (!name) return name.status();
  if (scheme != "https" && scheme != "http") return Status::errorf("unsupported protocol {}", quote_text(scheme));
  if (scheme == "http" && !insecure) return Status::error("insecure protocol http");
  Reference r;
  r.scheme = insecure ? "http" : scheme;
  r.name = std::move(*name);
  return r;
}

std::string Reference::manifest_url() const { return base_url() + "/v2/" + repository() + "/manifests/" + name.tag; }

std::string Reference::blob_url(const store::Digest& d) const {
  return base_url() + "/v2/" + repository() + "/blobs/" + d.str();
}

std::string Reference::uploads_url() const { return base_url() + "/v2/" + repository() + "/blobs/uploads/"; }

std::string resolve_location(const std::string& base_url, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  if (location.substr(0, 2) == "//") {  // scheme-relative: another host, same scheme
    return base_url.substr(0, base_url.find("://") + 1) + std::string(location);
  }
  if (!location.empty() && location.front() == '/') return base_url + std::string(location);
  return base_url + "/" + std::string(location);
}

}  // namespace corral::registry
