// Copyright 2026 The UFC Authors. Licensed under the Apache License, Version 2.0.

#include "src/banning/ban_record.h"

namespace ufc::internal {

const BanCounts BanRecord::kNoCounts;

const char* ban_state_name(BanState state) {
  switch (state) {
    case BanState::kHealthy:
      return "ok";
    case BanState::kBanned:
      return "banned";
    case BanState::kProbing:
      return "probing";
    case BanState::kProbation:
      return "probation";
  }
  return "unknown";
}

const char* detector_name(Detector detector) {
  switch (detector) {
    case Detector::kByRequest:
      return "by_request";
    case Detector::kByBusiness:
      return "by_business";
  }
  return "unknown";
}

}  // namespace ufc::internal
