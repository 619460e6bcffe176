// Helpers shared by the template tests: render a template string over JSON data, or get the
// parse / execution error it produces.
#pragma once

#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "templates/go_template.h"

namespace corral::testing {

// Renders, failing the test (and returning a marker) on any error.
inline std::string render(std::string_view tmpl, const nlohmann::json& data = nlohmann::json::object()) {
  auto t = GoTemplate::parse(tmpl);
  if (!t.is_ok()) {
    ADD_FAILURE() << "parse error for " << tmpl << ": " << t.error();
    return "<parse error>";
  }
  auto r = t->execute(data);
  if (!r.is_ok()) {
    ADD_FAILURE() << "execution error for " << tmpl << ": " << r.error();
    return "<execution error>";
  }
  return r.value();
}

// The parse error message ("" and a test failure when it parses).
inline std::string parse_error(std::string_view tmpl) {
  auto t = GoTemplate::parse(tmpl);
  if (t.is_ok()) {
    ADD_FAILURE() << "expected a parse error for " << tmpl;
    return "";
  }
  return t.error();
}

// The execution error message of a template that parses.
inline std::string exec_error(std::string_view tmpl, const nlohmann::json& data = nlohmann::json::object(),
                              const GoTemplateLimits& limits = {}) {
  auto t = GoTemplate::parse(tmpl);
  if (!t.is_ok()) {
    ADD_FAILURE() << "unexpected parse error for " << tmpl << ": " << t.error();
    return "";
  }
  auto r = t->execute(data, limits);
  if (r.is_ok()) {
    ADD_FAILURE() << "expected an execution error for " << tmpl << ", got: " << r.value();
    return "";
  }
  return r.error();
}

}  // namespace corral::testing
