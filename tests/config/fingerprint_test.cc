// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// The fingerprint says whether two configs have the same content: equal however their
// maps were filled, different when any one field differs.

#include "src/config/fingerprint.h"

#include <string>

#include "gtest/gtest.h"
#include "ufc/config.h"

namespace ufc {
namespace {

using google::protobuf::FieldDescriptor;
using internal::fingerprint;

v1::ServiceConfig service() {
  v1::ServiceConfig s;
  s.set_name("svc");
  s.set_version(3);
  for (int i = 1; i <= 3; ++i) {
    v1::Endpoint* e = s.add_endpoints();
    e->set_address("10.0.0." + std::to_string(i) + ":80");
    (*e->mutable_tags())["idc"] = "bj";
    (*e->mutable_tags())["shard"] = std::to_string(i);
  }
  s.mutable_balancing()->set_policy("round_robin");
  (*s.add_routes()->add_destinations()->mutable_tags())["idc"] = "bj";
  return s;
}

TEST(FingerprintTest, MapsFilledInAnyOrderGiveTheSameFingerprint) {
  v1::ServiceConfig a = service(), b = service();
  for (v1::Endpoint& e : *b.mutable_endpoints()) {
    e.clear_tags();
    for (int k = 0; k < 40; ++k) (*e.mutable_tags())["k" + std::to_string(39 - k)] = "v";
  }
  for (v1::Endpoint& e : *a.mutable_endpoints()) {
    e.clear_tags();
    for (int k = 0; k < 40; ++k) (*e.mutable_tags())["k" + std::to_string(k)] = "v";
  }
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  v1::ClientConfig ca, cb;  // a map reached through reflection alone: the IDC map
  for (int k = 0; k < 20; ++k) (*ca.mutable_idc_map())["h" + std::to_string(k)] = "bj";
  for (int k = 19; k >= 0; --k) (*cb.mutable_idc_map())["h" + std::to_string(k)] = "bj";
  EXPECT_EQ(fingerprint(ca), fingerprint(cb));
}

TEST(FingerprintTest, AnyOneChangeChangesIt) {
  const internal::Fingerprint base = fingerprint(service());
  v1::ServiceConfig s = service();
  s.mutable_endpoints(1)->set_weight(1);  // explicitly 1: means the same, another message
  EXPECT_NE(fingerprint(s), base);
  s = service();
  (*s.mutable_endpoints(2)->mutable_tags())["shard"] = "2";  // a tag value
  EXPECT_NE(fingerprint(s), base);
  s = service();
  s.mutable_endpoints(0)->mutable_agent_drain()->set_since_unix_ms(5);  // a nested message
  EXPECT_NE(fingerprint(s), base);
  s = service();
  s.mutable_endpoints()->SwapElements(0, 1);  // order of a repeated field
  EXPECT_NE(fingerprint(s), base);
  s = service();  // the same tags moved from one endpoint to another
  (*s.mutable_endpoints(0)->mutable_tags())["shard"] = "2";
  (*s.mutable_endpoints(1)->mutable_tags())["shard"] = "1";
  EXPECT_NE(fingerprint(s), base);
  s = service();
  s.mutable_routes(0)->mutable_destinations(0)->mutable_tags()->clear();
  EXPECT_NE(fingerprint(s), base);
  s = service();
  s.mutable_balancing()->set_policy("random");
  EXPECT_NE(fingerprint(s), base);
  s = service();  // a field of a newer schema, kept as an unknown field
  s.mutable_endpoints(0)->GetReflection()->MutableUnknownFields(s.mutable_endpoints(0))
      ->AddVarint(99, 1);
  EXPECT_NE(fingerprint(s), base);
}

TEST(FingerprintTest, EveryTopLevelFieldCounts) {
  // Each scalar or string field of ServiceConfig set alone to a non-default value.
  const google::protobuf::Descriptor& type = *v1::ServiceConfig::descriptor();
  const internal::Fingerprint base = fingerprint(service());
  int checked = 0;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    if (f.is_repeated() || f.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) continue;
    v1::ServiceConfig s = service();
    const google::protobuf::Reflection& r = *s.GetReflection();
    switch (f.cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: r.SetString(&s, &f, "changed"); break;
      case FieldDescriptor::CPPTYPE_UINT64: r.SetUInt64(&s, &f, 77); break;
      case FieldDescriptor::CPPTYPE_INT64: r.SetInt64(&s, &f, 77); break;
      case FieldDescriptor::CPPTYPE_UINT32: r.SetUInt32(&s, &f, 77); break;
      case FieldDescriptor::CPPTYPE_INT32: r.SetInt32(&s, &f, 77); break;
      case FieldDescriptor::CPPTYPE_BOOL: r.SetBool(&s, &f, true); break;
      case FieldDescriptor::CPPTYPE_DOUBLE: r.SetDouble(&s, &f, 0.5); break;
      default: continue;
    }
    EXPECT_NE(fingerprint(s), base) << f.name();
    ++checked;
  }
  EXPECT_GE(checked, 3);  // name, version, tier at least
}

}  // namespace
}  // namespace ufc
