// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/config/config_validator.h: the checks behind ufc::validate_config and
// ufc::validate_service, usable inside a larger path.

#ifndef UFC_CONFIG_CONFIG_VALIDATOR_H_
#define UFC_CONFIG_CONFIG_VALIDATOR_H_

#include "src/config/validation_errors.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// Limits that keep a hostile or broken config from exhausting memory or time.
inline constexpr int kMaxEndpoints = 100000;
inline constexpr int kMaxServices = 100000;
inline constexpr double kMaxWeight = 1e6;
// The smallest nonzero weight: keeps weight ratios (and the tables built from them) bounded.
inline constexpr double kMinWeight = 1e-6;
inline constexpr size_t kMaxNameLength = 255;
inline constexpr uint32_t kMaxMaglevTableSize = 4194301;  // a prime just under 2^22

// Adds every problem of `service` to `errors`, at the current path.
void validate_service(const v1::ServiceConfig& service, ValidationErrors& errors);

// Adds every problem of a balancing section (the service's, or a subset's override) to
// `errors`, under the field "balancing".
void validate_balancing(const v1::Balancing& balancing, ValidationErrors& errors);

// Adds every problem of `config` (each service under "services[i]", plus unique names).
void validate_client_config(const v1::ClientConfig& config, ValidationErrors& errors);

// The endpoint weight the config means: absent is 1.
inline double endpoint_weight(const v1::Endpoint& e) { return e.has_weight() ? e.weight() : 1.0; }

}  // namespace ufc::internal

#endif  // UFC_CONFIG_CONFIG_VALIDATOR_H_
