#include "server/request_fields.h"

#include <cmath>

#include <fmt/format.h>

namespace corral::server {

Status field_type_error(std::string_view field, std::string_view expected) {
  return Status::errorf("{} must be {}", field, expected);
}

const ordered_json* find_field(const ordered_json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status read_string(const ordered_json& obj, std::string_view key, std::string* out) {
  const ordered_json* v = find_field(obj, key);
  if (!v) return Status::ok();
  if (!v->is_string()) return field_type_error(key, "a string");
  *out = v->get_ref<const std::string&>();
  return Status::ok();
}

Status read_string(const ordered_json& obj, std::string_view key, std::optional<std::string>* out) {
  const ordered_json* v = find_field(obj, key);
  if (!v) return Status::ok();
  if (!v->is_string()) return field_type_error(key, "a string");
  *out = v->get_ref<const std::string&>();
  return Status::ok();
}

Status read_bool(const ordered_json& obj, std::string_view key, bool* out) {
  const ordered_json* v = find_field(obj, key);
  if (!v) return Status::ok();
  if (!v->is_boolean()) return field_type_error(key, "a boolean");
  *out = v->get<bool>();
  return Status::ok();
}

Status read_int(const ordered_json& obj, std::string_view key, int64_t* out) {
  const ordered_json* v = find_field(obj, key);
  if (!v) return Status::ok();
  if (v->is_number_integer()) {
    // An unsigned value above INT64_MAX would wrap; clamp it instead (every caller bounds it).
    *out = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX} ? INT64_MAX : v->get<int64_t>();
    return Status::ok();
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    // 9e18 keeps the conversion inside int64_t's range (about 9.22e18).
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e18) {
      *out = static_cast<int64_t>(d);
      return Status::ok();
    }
  }
  return field_type_error(key, "an integer");
}

Status read_number(const ordered_json& obj, std::string_view key, double* out) {
  const ordered_json* v = find_field(obj, key);
  if (!v) return Status::ok();
  if (!v->is_number()) return field_type_error(key, "a number");
  *out = v->get<double>();
  return Status::ok();
}

Result<const ordered_json*> read_object(const ordered_json& obj, std::string_view key) {
  const ordered_json* v = find_field(obj, key);
  if (v && !v->is_object()) return field_type_error(key, "an object");
  return v;
}

Result<const ordered_json*> read_array(const ordered_json& obj, std::string_view key) {
  const ordered_json* v = find_field(obj, key);
  if (v && !v->is_array()) return field_type_error(key, "an array");
  return v;
}

Status read_name(const ordered_json& obj, std::initializer_list<std::string_view> keys, std::string* out) {
  for (std::string_view key : keys) {
    std::string s;
    CORRAL_RETURN_IF_ERROR(read_string(obj, key, &s));
    if (out->empty() && !s.empty()) *out = std::move(s);
  }
  return Status::ok();
}

}  // namespace corral::server
