// One row of the fused GLM's negative-binomial (log link) family, written once for the CPU kernel
// (density/glm.cpp) and the device kernels (backend/grid_kernels.hpp).
#pragma once
#include <cmath>

#include "common/scalar_math.hpp"
#include "common/hd.hpp"

namespace brr::ad {

// lgamma(y + phi) + phi (log phi - log(mu + phi)) + y (eta - log(mu + phi)) to w, d/d eta to g and
// d/d phi to e; -lgamma(phi) per row and -log y! are added once by the caller
BRR_HD inline void negbin_log_row(double eta, double y, double phi, double log_phi, double& w, double& g, double& e) {
  const double lmp = log_add_exp(eta, log_phi);  // log(mu + phi)
  const double r = std::exp(eta - lmp);          // mu / (mu + phi)
  w = std::lgamma(y + phi) + phi * (log_phi - lmp) + y * (eta - lmp);
  g = y - (y + phi) * r;
  e = digamma(y + phi) + log_phi + 1.0 - lmp - (phi + y) * std::exp(-lmp);
}

}  // namespace brr::ad
