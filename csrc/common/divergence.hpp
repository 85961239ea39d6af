// Why a transition diverged, one code per cause, for the executors that detect a cause (an ODE solve
// that stopped short), the samplers that record it per draw (the divergence_reason statistic) and
// Python's names and advice (_core.divergence_reasons()). Codes are stored in results and checkpoint
// files: add new ones at the end, never renumber.
#pragma once
#include <cstdint>

namespace brr {

// X(enumerator, code, name, what it means)
#define BRR_DIVERGENCE_REASONS(X)                                                                          \
  X(None, 0, "none", "no divergence")                                                                     \
  X(Energy, 1, "energy", "the energy error exceeded 1000")                                                \
  X(NotFinite, 2, "not_finite", "the log density or its gradient was not finite")                         \
  X(OdeMaxSteps, 3, "ode_max_steps", "an ODE solve took more than max_steps steps between two output times") \
  X(OdeStepTooSmall, 4, "ode_step_too_small", "an ODE solve's step size fell below what the time resolves")  \
  X(OdeNotFinite, 5, "ode_not_finite", "an ODE solve's right-hand side stayed not finite however small the step") \
  X(Unrecorded, 6, "unrecorded", "a divergence of a run saved before causes were recorded")

enum class Divergence : std::uint8_t {
#define BRR_DIVERGENCE_ENUM(e, code, name, text) e = code,
  BRR_DIVERGENCE_REASONS(BRR_DIVERGENCE_ENUM)
#undef BRR_DIVERGENCE_ENUM
};

}  // namespace brr
