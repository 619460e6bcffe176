#include "sampling/json_schema.h"

#include <gtest/gtest.h>

#include "sampling/json_constraint.h"

namespace corral::sampling {
namespace {

std::shared_ptr<const JsonProgram> compile_ok(std::string_view schema) {
  auto r = compile_json_schema(schema);
  EXPECT_TRUE(r.is_ok()) << schema << ": " << r.error();
  return r.is_ok() ? r.value() : nullptr;
}

std::string compile_error(std::string_view schema) {
  auto r = compile_json_schema(schema);
  return r.is_ok() ? "(compiled)" : r.error();
}

bool accepts(const JsonProgram& p, std::string_view text) {
  JsonConstraint c(&p);
  return c.feed(text) && c.complete();
}

std::string shortest(const JsonProgram& p) { return JsonConstraint(&p).bytes_to_complete(); }

TEST(JsonSchema, UnsupportedKeywordsAreNamedInTheError) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"string","pattern":"^a"})", "\"pattern\" is not supported"},
      {R"({"allOf":[{"type":"string"}]})", "\"allOf\" is not supported"},
      {R"({"type":"integer","maximum":5})", "\"maximum\" is not supported"},
      {R"({"type":"integer","minimum":5})", "\"minimum\" other than 0"},
      {R"({"type":"array","uniqueItems":true})", "uniqueItems"},
      {R"({"type":"array","items":[{"type":"string"}]})", "tuples"},
      {R"({"$ref":"http://example.com/s.json"})", "only local \"$ref\""},
      {R"({"$ref":"#/$defs/missing"})", "does not resolve"},
      {R"({"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"})",
       "recursive \"$ref\""},
      {R"({"anyOf":[{"type":"object"},{"type":"object","properties":{"a":{}}}]})", "same character ('{')"},
      // Objects without a discriminator: optional first property, a shared constant, different keys.
      {R"({"anyOf":[{"properties":{"k":{"const":1}}},{"properties":{"k":{"const":2}}}]})", "same character ('{')"},
      {R"({"anyOf":[{"properties":{"k":{"const":1}},"required":["k"]},
                    {"properties":{"k":{"enum":[2,1]}},"required":["k"]}]})",
       "same character ('{')"},
      {R"({"anyOf":[{"properties":{"k":{"const":1}},"required":["k"]},
                    {"properties":{"j":{"const":2}},"required":["j"]}]})",
       "same character ('{')"},
      {R"({"anyOf":[{"type":"integer"},{"type":"number"}]})", "same character"},
      {R"({"anyOf":[{"type":"string"}],"type":"string"})", "combined with"},
      {R"({"enum":[]})", "non-empty array"},
      {R"({"type":"string","enum":[1,2]})", "no enum value has the allowed type"},
      {R"({"type":"strin"})", "unknown type \"strin\""},
      {R"({"type":[]})", "empty array"},
      {R"({"type":"string","minLength":3,"maxLength":2})", "minLength > maxLength"},
      {R"({"type":"array","minItems":-1})", "non-negative integer"},
      {R"(false)", "admits no value"},
      {R"(5)", "must be an object or a boolean"},
      {R"({"type":"object","properties":{"a":{"not":{}}}})", "#/properties/a: \"not\" is not supported"},
      {R"({"type": )", "not valid JSON"},
  };
  for (const auto& [schema, expected] : cases) {
    const std::string error = compile_error(schema);
    EXPECT_NE(error.find(expected), std::string::npos) << schema << " -> " << error;
  }
}

TEST(JsonSchema, IntegerBoundsTheDigitLimitKeepsAreAccepted) {
  // zod 4's z.int(), as LangChain, the AI SDK and the openai helpers send it.
  const char* zod_int = R"({"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991})";
  auto p = compile_ok(zod_int);
  ASSERT_TRUE(p);
  EXPECT_TRUE(accepts(*p, "42"));
  EXPECT_TRUE(accepts(*p, "-7"));
  EXPECT_FALSE(accepts(*p, "1.5"));
  EXPECT_FALSE(accepts(*p, "1234567890123456"));  // 16 digits: past max_int_digits (15)
  auto nullable = compile_ok(R"({"type":["integer","null"],"maximum":1e20})");
  ASSERT_TRUE(nullable);
  EXPECT_TRUE(accepts(*nullable, "null"));
  EXPECT_TRUE(accepts(*nullable, "-3"));  // a vacuous maximum is no minimum 0
  // Bounds that restrict, bounds on numbers (exponents reach past any digit count) and bounds
  // with no digit limit to keep them stay errors.
  EXPECT_NE(compile_error(R"({"type":"integer","maximum":999999999999998})").find("\"maximum\""), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"integer","minimum":-5})").find("\"minimum\""), std::string::npos);
  EXPECT_NE(compile_error(R"({"type":"number","maximum":9007199254740991})").find("\"maximum\""), std::string::npos);
  EXPECT_NE(compile_error(R"({"maximum":9007199254740991})").find("\"maximum\""), std::string::npos);
  JsonLimits unlimited;
  unlimited.max_int_digits = 0;
  EXPECT_FALSE(compile_json_schema(std::string_view(zod_int), unlimited).is_ok());
}

TEST(JsonSchema, HostileNestingIsAnErrorNotACrash) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += R"({"anyOf":[)";
  deep += "{}";
  for (int i = 0; i < 100000; ++i) deep += "]}";
  EXPECT_NE(compile_error(deep).find("nests deeper"), std::string::npos);
  std::string containers;
  for (int i = 0; i < 40; ++i) containers += R"({"type":"array","items":)";
  containers += "{}";
  for (int i = 0; i < 40; ++i) containers += "}";
  EXPECT_NE(compile_error(containers).find("deeper than 32"), std::string::npos);
  // Definitions that each use the previous one twice: 2^30 nodes once inlined.
  std::string defs = R"({"$defs":{"d0":{"type":"integer"})";
  for (int i = 1; i <= 30; ++i) {
    defs += fmt::format(
        R"(,"d{}":{{"type":"object","properties":{{"a":{{"$ref":"#/$defs/d{}"}},"b":{{"$ref":"#/$defs/d{}"}}}}}})", i,
        i - 1, i - 1);
  }
  defs += R"(},"$ref":"#/$defs/d30"})";
  const std::string error = compile_error(defs);
  EXPECT_TRUE(error.find("more than") != std::string::npos || error.find("deeper") != std::string::npos) << error;
}

TEST(JsonSchema, AnnotationsAreIgnored) {
  auto p = compile_ok(R"({"title":"T","description":"d","$schema":"https://json-schema.org/draft/2020-12/schema",
      "type":"object","properties":{"when":{"type":"string","format":"date-time","examples":["x"]}},
      "required":["when"],"additionalProperties":false})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(accepts(*p, R"({"when":"tomorrow"})"));
}

TEST(JsonSchema, RequiredPropertiesFirstThenOptionalOnesInSchemaOrder) {
  auto p = compile_ok(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},
      "c":{"type":"boolean"},"d":{"type":"null"}},"required":["d","b"]})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(accepts(*p, R"({"b":"x","d":null})"));
  EXPECT_TRUE(accepts(*p, R"({"b":"x","d":null,"a":1,"c":true})"));
  EXPECT_TRUE(accepts(*p, R"({ "b" : "x" , "d" : null , "c" : false })"));
  EXPECT_FALSE(accepts(*p, R"({})"));  // b and d are required
  EXPECT_FALSE(accepts(*p, R"({"b":"x"})"));
  EXPECT_FALSE(accepts(*p, R"({"d":null,"b":"x"})"));        // out of order
  EXPECT_FALSE(accepts(*p, R"({"a":1,"b":"x","d":null})"));  // optional before required
  EXPECT_FALSE(accepts(*p, R"({"b":"x","d":null,"c":true,"a":1})"));
  EXPECT_FALSE(accepts(*p, R"({"b":"x","d":null,"z":1})"));    // not listed
  EXPECT_FALSE(accepts(*p, R"({"b":1,"d":null})"));            // wrong type
  EXPECT_FALSE(accepts(*p, R"({"b":"x","b":"y","d":null})"));  // no repeats
  EXPECT_EQ(shortest(*p), R"({"b":"","d":null})");
  // Required names missing from properties become properties of any type.
  auto q = compile_ok(R"({"properties":{"a":{"type":"integer"}},"required":["z","a"]})");
  ASSERT_TRUE(q);
  EXPECT_TRUE(accepts(*q, R"({"a":1,"z":[null]})"));
  EXPECT_EQ(shortest(*q), R"({"a":0,"z":0})");
}

TEST(JsonSchema, MapsArraysStringsAndNumbers) {
  auto map = compile_ok(R"({"type":"object","additionalProperties":{"type":"integer"}})");
  ASSERT_TRUE(map);
  EXPECT_TRUE(accepts(*map, R"({"x":1,"y":2,"x":3})"));
  EXPECT_FALSE(accepts(*map, R"({"x":"1"})"));
  auto closed = compile_ok(R"({"type":"object","additionalProperties":false})");
  ASSERT_TRUE(closed);
  EXPECT_TRUE(accepts(*closed, "{}"));
  EXPECT_FALSE(accepts(*closed, R"({"x":1})"));

  auto arr = compile_ok(R"({"type":"array","items":{"type":"string","maxLength":2},"minItems":1,"maxItems":2})");
  ASSERT_TRUE(arr);
  EXPECT_FALSE(accepts(*arr, "[]"));
  EXPECT_TRUE(accepts(*arr, R"(["ab"])"));
  EXPECT_TRUE(accepts(*arr, "[\"\xC3\xA9\xC3\xA9\",\"\\n\\u00e9\"]"));  // code points, not bytes
  EXPECT_FALSE(accepts(*arr, R"(["abc"])"));
  EXPECT_FALSE(accepts(*arr, R"(["a","b","c"])"));
  EXPECT_EQ(shortest(*arr), R"([""])");

  auto integer = compile_ok(R"({"type":"integer","minimum":0})");
  ASSERT_TRUE(integer);
  EXPECT_TRUE(accepts(*integer, "42"));
  EXPECT_FALSE(accepts(*integer, "-1"));
  EXPECT_FALSE(accepts(*integer, "1.0"));
  EXPECT_FALSE(accepts(*integer, "1e2"));
  auto number = compile_ok(R"({"type":"number"})");
  ASSERT_TRUE(number);
  EXPECT_TRUE(accepts(*number, "-1.5e-3"));
  EXPECT_TRUE(accepts(*number, "7"));

  auto nullable = compile_ok(R"({"type":"string","nullable":true,"minLength":2})");
  ASSERT_TRUE(nullable);
  EXPECT_TRUE(accepts(*nullable, "null"));
  EXPECT_FALSE(accepts(*nullable, R"("a")"));
  EXPECT_EQ(shortest(*nullable), "null");
}

TEST(JsonSchema, EnumsConstsAndUnions) {
  auto e = compile_ok(R"({"enum":["a",1,12,1.5,null,{"k":[true]},"a"]})");
  ASSERT_TRUE(e);
  for (const char* ok : {R"("a")", "1", "12", "1.5", "null", R"({"k":[true]})"}) EXPECT_TRUE(accepts(*e, ok)) << ok;
  for (const char* bad : {R"("b")", "2", "123", "1.", "1.50", R"({"k": [true]})", "nul"}) {
    EXPECT_FALSE(accepts(*e, bad)) << bad;
  }
  EXPECT_EQ(shortest(*e), "1");

  auto typed = compile_ok(R"({"type":"string","enum":["x",1,"y"]})");  // 1 can never validate
  ASSERT_TRUE(typed);
  EXPECT_FALSE(accepts(*typed, "1"));
  EXPECT_TRUE(accepts(*typed, R"("y")"));

  auto c = compile_ok(R"({"const":"fixed"})");
  ASSERT_TRUE(c);
  EXPECT_TRUE(accepts(*c, R"("fixed")"));
  EXPECT_FALSE(accepts(*c, R"("fixe")"));

  auto u = compile_ok(R"({"oneOf":[{"type":"string"},{"type":"integer"},{"type":"array","items":{"type":"null"}}]})");
  ASSERT_TRUE(u);
  EXPECT_TRUE(accepts(*u, R"("x")"));
  EXPECT_TRUE(accepts(*u, "-5"));
  EXPECT_TRUE(accepts(*u, "[null,null]"));
  EXPECT_FALSE(accepts(*u, "[1]"));
  EXPECT_FALSE(accepts(*u, "true"));
  EXPECT_EQ(shortest(*u), "0");

  auto refs = compile_ok(R"({"definitions":{"id":{"type":"integer"}},"type":"array",
      "items":{"$ref":"#/definitions/id"}})");
  ASSERT_TRUE(refs);
  EXPECT_TRUE(accepts(*refs, "[1,2]"));
  EXPECT_FALSE(accepts(*refs, "[1.5]"));
}

// The shape of a forced tool call among several tools: the name picks the arguments' schema.
const char* kTwoTools = R"({"anyOf":[
  {"type":"object","properties":{"name":{"const":"add"},
   "arguments":{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}},
   "required":["name","arguments"]},
  {"type":"object","properties":{"name":{"const":"add_note"},
   "arguments":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}},
   "required":["name","arguments"]}]})";

TEST(JsonSchema, ObjectsToldApartByTheirFirstRequiredConstant) {
  auto p = compile_ok(kTwoTools);
  ASSERT_TRUE(p);
  EXPECT_TRUE(accepts(*p, R"({"name":"add","arguments":{"a":1,"b":2}})"));
  EXPECT_TRUE(accepts(*p, R"({ "name" : "add_note" , "arguments" : { "text" : "hi" } })"));
  EXPECT_FALSE(accepts(*p, R"({"name":"add","arguments":{"text":"hi"}})"));  // the other tool's arguments
  EXPECT_FALSE(accepts(*p, R"({"name":"add_note","arguments":{"a":1,"b":2}})"));
  EXPECT_FALSE(accepts(*p, R"({"name":"add","arguments":{"a":1}})"));  // b is required
  EXPECT_FALSE(accepts(*p, R"({"name":"sub","arguments":{"a":1,"b":2}})"));
  EXPECT_FALSE(accepts(*p, R"({"arguments":{"a":1,"b":2},"name":"add"})"));  // the name comes first
  EXPECT_FALSE(accepts(*p, R"({"name":"add"})"));
  EXPECT_FALSE(accepts(*p, R"({})"));
  // Completion follows the branch named so far, whichever state it starts from.
  EXPECT_EQ(shortest(*p), R"({"name":"add","arguments":{"a":0,"b":0}})");
  const std::pair<const char*, const char*> partial[] = {
      {R"({"name":"add_n)", R"(ote","arguments":{"text":""}})"}, {R"({"name":"add)", R"(","arguments":{"a":0,"b":0}})"},
      {R"({"name":"add_note")", R"(,"arguments":{"text":""}})"}, {R"({"name":"add","arguments":{"a":5)", R"(,"b":0}})"},
      {R"({)", R"("name":"add","arguments":{"a":0,"b":0}})"},
  };
  for (const auto& [prefix, rest] : partial) {
    JsonConstraint c(p.get());
    ASSERT_TRUE(c.feed(prefix)) << prefix;
    EXPECT_EQ(c.bytes_to_complete(), rest) << prefix;
    EXPECT_TRUE(accepts(*p, std::string(prefix) + rest)) << prefix;
  }
}

TEST(JsonSchema, TaggedUnionsMixWithOtherTypesNestAndTakeEnums) {
  // Several constants per branch, a non-object branch beside them, and a nested union whose
  // branches join the outer ones.
  auto p = compile_ok(R"({"anyOf":[
    {"type":"object","properties":{"shape":{"enum":["circle","disc"]},"r":{"type":"number"}},"required":["shape","r"]},
    {"anyOf":[
      {"type":"object","properties":{"shape":{"const":"square"},"side":{"type":"integer"}},"required":["shape","side"]},
      {"type":"object","properties":{"shape":{"const":"dot"}},"required":["shape"]}]},
    {"type":"null"}]})");
  ASSERT_TRUE(p);
  EXPECT_TRUE(accepts(*p, R"({"shape":"circle","r":1.5})"));
  EXPECT_TRUE(accepts(*p, R"({"shape":"disc","r":2})"));
  EXPECT_TRUE(accepts(*p, R"({"shape":"square","side":3})"));
  EXPECT_TRUE(accepts(*p, R"({"shape":"dot"})"));
  EXPECT_TRUE(accepts(*p, "null"));
  EXPECT_FALSE(accepts(*p, R"({"shape":"square","side":1.5})"));
  EXPECT_FALSE(accepts(*p, R"({"shape":"square","r":1})"));
  EXPECT_FALSE(accepts(*p, R"({"shape":"dot","r":1})"));
  EXPECT_FALSE(accepts(*p, R"({"shape":"circle"})"));
  EXPECT_EQ(shortest(*p), "null");
  // The same union inside an array, several times.
  auto list = compile_ok(std::string(R"({"type":"array","items":)") + kTwoTools + "}");
  ASSERT_TRUE(list);
  EXPECT_TRUE(
      accepts(*list, R"([{"name":"add_note","arguments":{"text":"x"}},{"name":"add","arguments":{"a":1,"b":2}}])"));
  EXPECT_FALSE(
      accepts(*list, R"([{"name":"add_note","arguments":{"text":"x"}},{"name":"add","arguments":{"text":"x"}}])"));
}

}  // namespace
}  // namespace corral::sampling
