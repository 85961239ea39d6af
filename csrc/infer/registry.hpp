// The sampler registry: one row per sampler (its name, title, whether its chains step in lock-step, its
// rule for the number of chains, how to make its run). make_run, the settings check and Python's list of
// samplers (bindings: samplers()) all read this table; adding a sampler is adding a row.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "infer/run.hpp"

namespace brr::infer {

struct SamplerInfo {
  std::string name;   // as the user writes it: "chees"
  std::string title;  // as its papers do: "ChEES"
  bool lockstep;      // many chains stepping together, one batch evaluation per step
  // why `chains` chains do not suit it, naming the fix ("" when they do)
  std::string (*chains_problem)(int chains);
  std::unique_ptr<Run> (*make)(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                               std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume);
};

const std::vector<SamplerInfo>& samplers();
// the row of `name`; an unknown name throws std::invalid_argument listing the known ones
const SamplerInfo& sampler_info(const std::string& name);

// Every sampler setting of cfg checked in this one place, with messages that name the setting, its value
// and the fix; metric and adapt as the user gave them ("" when not given) are checked and resolved into
// cfg.chain (adapt's default: "fisher" for the low-rank metric, else Stan's windows). Throws
// std::invalid_argument.
void configure(SamplerConfig& cfg, const std::string& metric, const std::string& adapt);

}  // namespace brr::infer
