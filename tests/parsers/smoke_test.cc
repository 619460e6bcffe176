#include <gtest/gtest.h>
#include "parsers/select.h"
namespace corral::parsers { namespace {
TEST(ParsersSmoke, Builds) { ParserInputs in; auto p = make_parser(select_parser(in)); auto r = p->feed("hi"); ASSERT_TRUE(r.is_ok()); }
}}
