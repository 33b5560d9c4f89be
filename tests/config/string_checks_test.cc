// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Every string of a config is well-formed UTF-8 and bounded (src/config/limits.h), checked
// before the sections are read: a hostile string is refused, its field named, and never
// quoted back.

#include "src/config/string_checks.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/config/limits.h"
#include "ufc/config.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBad = "ab\xff";              // not UTF-8 at byte 2
const std::string kSurrogate = "\xed\xa0\x80";  // U+D800: not UTF-8 at byte 0
const std::string kHuge(10 * 1024 * 1024, 'x');

// A service every test spoils one string of; valid as it is.
v1::ServiceConfig service() {
  v1::ServiceConfig s;
  s.set_name("svc");
  for (int i = 1; i <= 2; ++i) {
    v1::Endpoint* e = s.add_endpoints();
    e->set_address("10.0.0." + std::to_string(i) + ":80");
    (*e->mutable_tags())["idc"] = "bj";
  }
  v1::Route* r = s.add_routes();
  r->set_name("beta");
  v1::AttributeMatch* a = r->mutable_match()->add_attributes();
  a->set_key("x-user");
  a->set_value("42");
  r->mutable_match()->add_caller_services("web");
  r->mutable_match()->add_caller_idcs("bj");
  v1::Subset* d = r->add_destinations();
  d->set_name("bj");
  (*d->mutable_tags())["idc"] = "bj";
  s.mutable_idc_affinity()->set_enabled(true);
  s.mutable_idc_affinity()->set_tag("idc");
  return s;
}

std::string error_of(const v1::ServiceConfig& s) {
  return std::string(validate_service(s).message());
}

TEST(StringChecksTest, TheBaseServiceIsValid) { EXPECT_TRUE(validate_service(service()).ok()); }

TEST(StringChecksTest, InvalidUtf8IsRejectedInEveryKindOfFieldWithTheFieldNamed) {
  v1::ServiceConfig s = service();
  s.mutable_routes(0)->set_name(kBad);  // a singular string
  EXPECT_EQ(error_of(s), "routes[0].name: not valid UTF-8 at byte 2");

  s = service();
  s.mutable_routes(0)->mutable_match()->mutable_attributes(0)->set_value(kSurrogate);
  EXPECT_EQ(error_of(s), "routes[0].match.attributes[0].value: not valid UTF-8 at byte 0");

  s = service();
  s.mutable_routes(0)->mutable_match()->mutable_attributes(0)->set_key(kBad);
  EXPECT_EQ(error_of(s), "routes[0].match.attributes[0].key: not valid UTF-8 at byte 2");

  s = service();
  s.mutable_routes(0)->mutable_match()->add_caller_services(kBad);  // a repeated string
  EXPECT_EQ(error_of(s), "routes[0].match.caller_services[1]: not valid UTF-8 at byte 2");

  s = service();
  s.mutable_routes(0)->mutable_match()->set_caller_idcs(0, kBad);
  EXPECT_EQ(error_of(s), "routes[0].match.caller_idcs[0]: not valid UTF-8 at byte 2");

  s = service();
  s.mutable_routes(0)->mutable_destinations(0)->set_name(kBad);
  EXPECT_EQ(error_of(s), "routes[0].destinations[0].name: not valid UTF-8 at byte 2");

  s = service();
  (*s.mutable_endpoints(1)->mutable_tags())["idc"] = kBad;  // a map value
  EXPECT_EQ(error_of(s), "endpoints[1].tags[\"idc\"]: not valid UTF-8 at byte 2");

  s = service();
  (*s.mutable_endpoints(1)->mutable_tags())[kBad] = "v";  // a map key: not quoted back
  EXPECT_EQ(error_of(s), "endpoints[1].tags: a key is not valid UTF-8 at byte 2");

  s = service();
  (*s.mutable_routes(0)->mutable_destinations(0)->mutable_tags())["idc"] = kSurrogate;
  EXPECT_EQ(error_of(s), "routes[0].destinations[0].tags[\"idc\"]: not valid UTF-8 at byte 0");

  s = service();
  s.mutable_idc_affinity()->set_tag(kBad);
  EXPECT_EQ(error_of(s), "idc_affinity.tag: not valid UTF-8 at byte 2");

  s = service();
  s.mutable_balancing()->set_policy(kBad);
  EXPECT_EQ(error_of(s), "balancing.policy: not valid UTF-8 at byte 2");

  s = service();
  s.mutable_fuse()->set_controller(kBad);
  EXPECT_EQ(error_of(s), "fuse.controller: not valid UTF-8 at byte 2");

  s = service();
  s.mutable_endpoints(0)->set_address("10.0.0.1:8\x80");
  EXPECT_EQ(error_of(s), "endpoints[0].address: not valid UTF-8 at byte 10");

  s = service();
  s.set_name(kBad);
  EXPECT_EQ(error_of(s), "name: not valid UTF-8 at byte 2");
}

TEST(StringChecksTest, OverLongStringsAreRejectedBeforeTheirBytesAreRead) {
  v1::ServiceConfig s = service();
  s.mutable_routes(0)->set_name(kHuge);
  EXPECT_EQ(error_of(s), "routes[0].name: must be at most 255 bytes, got 10485760");

  s = service();
  s.mutable_routes(0)->mutable_match()->mutable_attributes(0)->set_value(kHuge);
  EXPECT_EQ(error_of(s),
            "routes[0].match.attributes[0].value: must be at most 1024 bytes, got "
            "10485760");

  s = service();
  s.mutable_routes(0)->mutable_match()->add_caller_services(kHuge);
  EXPECT_EQ(error_of(s),
            "routes[0].match.caller_services[1]: must be at most 255 bytes, got "
            "10485760");

  s = service();
  (*s.mutable_endpoints(0)->mutable_tags())[std::string(300, 'k')] = "v";
  EXPECT_EQ(error_of(s), "endpoints[0].tags: a key must be at most 255 bytes, got 300");

  s = service();
  s.mutable_idc_affinity()->set_tag(kHuge);
  EXPECT_EQ(error_of(s), "idc_affinity.tag: must be at most 255 bytes, got 10485760");

  s = service();
  s.mutable_endpoints(0)->set_address(kHuge);
  EXPECT_EQ(error_of(s), "endpoints[0].address: must be at most 1024 bytes, got 10485760");
}

TEST(StringChecksTest, TheLimitsThemselvesAreAllowed) {
  v1::ServiceConfig s = service();
  s.mutable_routes(0)->set_name(std::string(internal::kMaxNameLength, 'r'));
  s.mutable_routes(0)->mutable_match()->mutable_attributes(0)->set_value(
      std::string(internal::kMaxValueLength, 'v'));
  s.mutable_routes(0)->mutable_match()->set_caller_services(0, "caf\xc3\xa9");  // UTF-8 is fine
  EXPECT_TRUE(validate_service(s).ok()) << validate_service(s);
}

TEST(StringChecksTest, EveryBadStringIsReportedAndTheSectionsAreNotRead) {
  v1::ServiceConfig s = service();
  s.mutable_routes(0)->set_name(kBad);
  (*s.mutable_endpoints(0)->mutable_tags())["zone"] = kHuge;
  (*s.mutable_endpoints(0)->mutable_tags())["idc"] = kBad;
  s.mutable_endpoints(1)->set_weight(-1);  // a section error: not looked at this time
  EXPECT_EQ(error_of(s),
            "endpoints[0].tags[\"idc\"]: not valid UTF-8 at byte 2; "
            "endpoints[0].tags[\"zone\"]: must be at most 255 bytes, got 10485760; "
            "routes[0].name: not valid UTF-8 at byte 2");
}

TEST(StringChecksTest, AWholeConfigNamesTheServiceAndChecksTheIdcMap) {
  v1::ClientConfig config;
  *config.add_services() = service();
  *config.add_services() = service();
  config.mutable_services(1)->set_name("other");
  config.mutable_services(1)->mutable_routes(0)->mutable_match()->add_caller_idcs(kBad);
  (*config.mutable_idc_map())["bj"] = kHuge;
  (*config.mutable_idc_map())[kBad] = "north";
  const absl::Status status = validate_config(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "idc_map: a key is not valid UTF-8 at byte 2; "
            "idc_map[\"bj\"]: must be at most 255 bytes, got 10485760; "
            "services[1].routes[0].match.caller_idcs[1]: not valid UTF-8 at byte 2");
}

TEST(StringChecksTest, AServiceWithABadNameIsNotComparedForDuplicates) {
  v1::ClientConfig config;
  *config.add_services() = service();
  *config.add_services() = service();
  config.mutable_services(0)->set_name(kHuge);
  config.mutable_services(1)->set_name(kHuge);
  const std::string message(validate_config(config).message());
  EXPECT_EQ(message,
            "services[0].name: must be at most 255 bytes, got 10485760; "
            "services[1].name: must be at most 255 bytes, got 10485760");
}

TEST(StringChecksTest, CheckStringsWalksAnyMessage) {
  v1::Endpoint e;
  e.set_address("10.0.0.1:80");
  (*e.mutable_tags())["a"] = "ok";
  internal::ValidationErrors errors;
  internal::check_strings(e, errors);
  EXPECT_TRUE(errors.empty());
  (*e.mutable_tags())["b"] = kBad;
  internal::check_strings(e, errors);
  EXPECT_EQ(errors.status().message(), "tags[\"b\"]: not valid UTF-8 at byte 2");
}

// Every string field the schema has, at any depth of a ClientConfig (messages, repeated
// messages, map keys and values), spoilt alone is caught: the fast path that passes clean
// configs without the full walk has no blind spot, whatever field is added later.
void spoil_each_string(google::protobuf::Message& root, google::protobuf::Message& at,
                       const std::string& path, int depth, int& checked) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection& r = *at.GetReflection();
  const google::protobuf::Descriptor& type = *at.GetDescriptor();
  auto expect_caught = [&](const std::string& field) {
    internal::ValidationErrors errors;
    internal::check_strings(root, errors);
    EXPECT_FALSE(errors.empty()) << path << field << " spoilt was not caught";
    ++checked;
  };
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    if (f.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (f.is_repeated()) {
        r.AddString(&at, &f, kBad);
        expect_caught(f.name() + "[]");
        r.RemoveLast(&at, &f);
      } else {
        r.SetString(&at, &f, kBad);
        expect_caught(f.name());
        r.ClearField(&at, &f);
      }
    } else if (f.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && depth < 6) {
      google::protobuf::Message* child =
          f.is_repeated() ? r.AddMessage(&at, &f) : r.MutableMessage(&at, &f);
      spoil_each_string(root, *child, path + f.name() + ".", depth + 1, checked);
      if (f.is_repeated()) {
        r.RemoveLast(&at, &f);
      } else {
        r.ClearField(&at, &f);
      }
    }
  }
}

TEST(StringChecksTest, EveryStringFieldOfTheSchemaSpoiltAloneIsCaught) {
  v1::ClientConfig config;
  int checked = 0;
  spoil_each_string(config, config, "", 0, checked);
  EXPECT_GE(checked, 30);  // the schema's strings (a sanity floor, not an exact count)
  internal::ValidationErrors errors;
  internal::check_strings(config, errors);
  EXPECT_TRUE(errors.empty()) << errors.status();  // everything put back
}

}  // namespace
}  // namespace ufc
