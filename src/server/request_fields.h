// Typed readers for the fields of a JSON request body. A field that is absent or null leaves
// the output as it was (the default); a field of the wrong JSON type is an error Status that
// names the field ("stream must be a boolean"), which the handler answers with a 400. Reading
// a request only through these (never nlohmann's get<T>() or value(), which throw on a wrong
// type) is what keeps a wrongly typed field from becoming a 500.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::server {

using ordered_json = nlohmann::ordered_json;

// "<field> must be <expected>", e.g. "model must be a string".
Status field_type_error(std::string_view field, std::string_view expected);

// The field when it is present and not null, else nullptr.
const ordered_json* find_field(const ordered_json& obj, std::string_view key);

Status read_string(const ordered_json& obj, std::string_view key, std::string* out);
Status read_string(const ordered_json& obj, std::string_view key, std::optional<std::string>* out);
Status read_bool(const ordered_json& obj, std::string_view key, bool* out);
// An integer; a whole float counts (JSON has one number type, and Go's int() accepts 3.0).
Status read_int(const ordered_json& obj, std::string_view key, int64_t* out);
Status read_number(const ordered_json& obj, std::string_view key, double* out);

// The field if it is an object (or an array); nullptr when absent or null; an error otherwise.
Result<const ordered_json*> read_object(const ordered_json& obj, std::string_view key);
Result<const ordered_json*> read_array(const ordered_json& obj, std::string_view key);

// The first of `keys` that holds a non-empty string ("model", then the older "name"); each
// must be a string when present.
Status read_name(const ordered_json& obj, std::initializer_list<std::string_view> keys, std::string* out);

}  // namespace corral::server
