// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// Section `destinations`: what validates, what does not, and the field each error names.

#include "src/dns/destination_policy.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/config/address.h"
#include "src/dns/dns_manager.h"
#include "ufc/config.h"

namespace ufc {
namespace {

using ::testing::HasSubstr;

v1::ServiceConfig service_with(const std::string& name, uint32_t port) {
  v1::ServiceConfig s;
  s.set_name("web");
  v1::DnsDestination* d = s.mutable_destinations()->add_dns();
  d->set_name(name);
  d->set_port(port);
  return s;
}

// The validation error of `s`, which must be INVALID_ARGUMENT.
std::string error_of(const v1::ServiceConfig& s) {
  absl::Status status = validate_service(s);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST(DestinationPolicyTest, ADnsOnlyServiceValidates) {
  EXPECT_TRUE(validate_service(service_with("web.ufc.test", 80)).ok());
  EXPECT_TRUE(validate_service(service_with("web.ufc.test.", 80)).ok());  // absolute
  EXPECT_TRUE(validate_service(service_with("localhost", 80)).ok());
  v1::ServiceConfig srv = service_with("_http._tcp.ufc.test", 0);
  srv.mutable_destinations()->mutable_dns(0)->set_type("srv");
  EXPECT_TRUE(validate_service(srv).ok()) << validate_service(srv);
  // Without destinations an empty endpoint list is still an error.
  v1::ServiceConfig none;
  none.set_name("web");
  EXPECT_THAT(error_of(none), HasSubstr("endpoints: must not be empty"));
}

TEST(DestinationPolicyTest, NamesThatAreNotHostnamesAreRefusedByField) {
  for (const char* bad :
       {"", "web..ufc.test", "-web.ufc.test", "web-.ufc.test", "web ufc.test", "web.ufc.test/x",
        "10.0.0.1", "[::1]", "::1", "999.1.1.1", "web.ufc.test:80", "é.ufc.test"}) {
    EXPECT_THAT(error_of(service_with(bad, 80)), HasSubstr("destinations.dns[0].name")) << bad;
  }
  EXPECT_THAT(error_of(service_with(std::string(64, 'a') + ".test", 80)),
              HasSubstr("destinations.dns[0].name"));
  std::string long_name;
  while (long_name.size() < 260) long_name += "abcdefgh.";
  long_name += "test";
  EXPECT_THAT(error_of(service_with(long_name, 80)), HasSubstr("destinations.dns[0].name"));
}

TEST(DestinationPolicyTest, PortsOutOfRangeAreRefused) {
  EXPECT_THAT(error_of(service_with("web.ufc.test", 0)), HasSubstr("destinations.dns[0].port"));
  EXPECT_THAT(error_of(service_with("web.ufc.test", 65536)),
              HasSubstr("destinations.dns[0].port: must be in 1..65535, got 65536"));
  v1::ServiceConfig srv = service_with("_http._tcp.ufc.test", 80);
  srv.mutable_destinations()->mutable_dns(0)->set_type("srv");
  EXPECT_THAT(error_of(srv), HasSubstr("destinations.dns[0].port: must be absent"));
  srv.mutable_destinations()->mutable_dns(0)->set_port(0);
  srv.mutable_destinations()->mutable_dns(0)->set_weight(2);
  EXPECT_THAT(error_of(srv), HasSubstr("destinations.dns[0].weight: must be absent"));
}

TEST(DestinationPolicyTest, TypesFamiliesAndWeightsAreChecked) {
  v1::ServiceConfig s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->mutable_dns(0)->set_type("cname");
  EXPECT_THAT(error_of(s), HasSubstr("destinations.dns[0].type"));
  s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->mutable_dns(0)->set_family("ipv5");
  EXPECT_THAT(error_of(s), HasSubstr("destinations.dns[0].family"));
  s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->mutable_dns(0)->set_weight(0);
  EXPECT_THAT(error_of(s), HasSubstr("destinations.dns[0].weight"));
  s = service_with("web.ufc.test", 80);
  *s.mutable_destinations()->add_dns() = s.destinations().dns(0);
  EXPECT_THAT(error_of(s), HasSubstr("destinations.dns[1]: duplicate of dns[0]"));
  s = service_with("web.ufc.test", 80);
  (*s.mutable_destinations()->mutable_dns(0)->mutable_tags())[""] = "x";
  EXPECT_THAT(error_of(s), HasSubstr("destinations.dns[0].tags"));
}

TEST(DestinationPolicyTest, RefreshBelowTheFloorAndOtherSchedulesAreRefused) {
  v1::ServiceConfig s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->mutable_refresh_interval()->set_nanos(50'000'000);  // 50 ms
  EXPECT_THAT(error_of(s), HasSubstr("destinations.refresh_interval"));
  s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->mutable_min_refresh()->set_nanos(10'000'000);
  EXPECT_THAT(error_of(s), HasSubstr("destinations.min_refresh"));
  s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->mutable_min_refresh()->set_seconds(5);
  s.mutable_destinations()->mutable_refresh_interval()->set_seconds(2);
  EXPECT_THAT(error_of(s), HasSubstr("destinations.refresh_interval: must be >= min_refresh"));
  s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->mutable_refresh_interval()->set_seconds(7200);
  EXPECT_THAT(error_of(s), HasSubstr("destinations.refresh_interval"));
  s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->set_jitter(0.9);
  EXPECT_THAT(error_of(s), HasSubstr("destinations.jitter"));
  s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->set_max_removal_share(0);
  EXPECT_THAT(error_of(s), HasSubstr("destinations.max_removal_share"));
  // min_refresh above the default interval, interval absent: the interval follows it.
  s = service_with("web.ufc.test", 80);
  s.mutable_destinations()->mutable_min_refresh()->set_seconds(60);
  EXPECT_TRUE(validate_service(s).ok()) << validate_service(s);
}

TEST(DestinationPolicyTest, TooManyNamesAreRefusedBeforeAnyIsRead) {
  v1::ServiceConfig s;
  s.set_name("web");
  for (int i = 0; i < 65; ++i) {
    v1::DnsDestination* d = s.mutable_destinations()->add_dns();
    d->set_name("bad name");  // not reported: the count stops the service first
    d->set_port(80);
  }
  const std::string e = error_of(s);
  EXPECT_THAT(e, HasSubstr("destinations.dns: has 65 entries, at most 64"));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("dns[0].name")));
}

TEST(DestinationPolicyTest, EndpointsOfAnAnswer) {
  internal::DnsName name;
  name.query.name = "_http._tcp.ufc.test";
  name.query.type = DnsRecordType::kSrv;
  const std::vector<DnsRecord> records = {{"10.0.0.2", 81, 1, 0},
                                          {"10.0.0.1", 80, 1, 5},
                                          {"10.0.0.1", 80, 1, 7},  // repeated: the largest
                                          {"10.0.0.3", 0, 0, 5},   // port 0: unusable, and
                                                                   // its priority does not count
                                          {"bogus", 83, 0, 5},     // not an address
                                          {"10.0.0.4", 84, 2, 9}};
  absl::StatusOr<std::vector<internal::DnsEndpoint>> got = internal::endpoints_of(name, records);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].ip, "10.0.0.1");
  EXPECT_EQ((*got)[0].weight, 7);
  EXPECT_EQ((*got)[1].ip, "10.0.0.2");
  EXPECT_EQ((*got)[1].weight, 0.01);  // SRV weight 0
  absl::StatusOr<std::vector<internal::DnsEndpoint>> none =
      internal::endpoints_of(name, {{"10.0.0.3", 0, 0, 5}});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  name.query.type = DnsRecordType::kAddress;
  name.port = 443;
  name.weight = 3;
  got = internal::endpoints_of(name, {{"0:0::1", 0, 0, 0}, {"10.0.0.1", 0, 0, 0}});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].ip, "10.0.0.1");
  EXPECT_EQ((*got)[0].port, 443);
  EXPECT_EQ((*got)[0].weight, 3);
  EXPECT_EQ((*got)[1].ip, "::1");  // canonical
  std::vector<DnsRecord> many;
  for (int i = 0; i < 10001; ++i) {
    many.push_back({"10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), 0, 0, 0});
  }
  EXPECT_EQ(internal::endpoints_of(name, many).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(DestinationPolicyTest, HostNameRules) {
  using internal::valid_dns_name;
  EXPECT_TRUE(valid_dns_name("a.b"));
  EXPECT_FALSE(valid_dns_name("_http._tcp.b"));
  EXPECT_TRUE(valid_dns_name("_http._tcp.b", true));
  EXPECT_FALSE(valid_dns_name("a.b.", false));
  EXPECT_TRUE(valid_dns_name("a.b.", true));
  EXPECT_FALSE(valid_dns_name(".", true));
  EXPECT_FALSE(valid_dns_name("a..", true));
}

}  // namespace
}  // namespace ufc
