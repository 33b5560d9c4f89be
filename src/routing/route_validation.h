// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.
//
// src/routing/route_validation.h: checks of a service's `routes` and `idc_affinity`.

#ifndef UFC_ROUTING_ROUTE_VALIDATION_H_
#define UFC_ROUTING_ROUTE_VALIDATION_H_

#include "src/config/validation_errors.h"
#include "ufc/v1/config.pb.h"

namespace ufc::internal {

// Adds every problem of `service`'s routing sections to `errors`: unknown operators,
// percentages outside [0, 100], subsets that select no endpoint of the service, subset
// weights that are negative, not finite or all 0, duplicate rule names, bad overrides.
void validate_routing(const v1::ServiceConfig& service, ValidationErrors& errors);

// Whether an endpoint's tags include every (key, value) of `selector`.
bool tags_match(const google::protobuf::Map<std::string, std::string>& endpoint_tags,
                const google::protobuf::Map<std::string, std::string>& selector);

}  // namespace ufc::internal

#endif  // UFC_ROUTING_ROUTE_VALIDATION_H_
