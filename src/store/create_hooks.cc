// The default template hooks of create (create.h), backed by templates/.
#include "store/create.h"

#include "templates/builtin_templates.h"
#include "templates/go_template.h"

namespace corral::store {

TemplateDetector builtin_template_detector() {
  return [](std::string_view jinja) -> std::optional<DetectedTemplate> {
    TemplateFamily family = detect_family(jinja);
    if (family == TemplateFamily::kPlain) return std::nullopt;
    DetectedTemplate t;
    t.name = std::string(family_name(family));
    t.text = std::string(builtin_go_template(family));
    std::vector<std::string> stops = default_stops(family);
    if (!stops.empty()) t.params["stop"] = stops;
    return t;
  };
}

TemplateValidator go_template_validator() {
  return [](std::string_view text) -> Status { return GoTemplate::parse(text).status(); };
}

}  // namespace corral::store
