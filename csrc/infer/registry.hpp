// The sampler registry: one row per sampler (its name, title, whether its chains step in lock-step, its
// rule for the number of chains, how to make its run, how its states' own part was saved before states
// were saved by name). make_run, the settings check, the state codec and Python's list of samplers
// (bindings: samplers()) all read this table; adding a sampler is adding a row.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "infer/run.hpp"

namespace brr::infer {

// One option of a sampler as the user writes it: its name, whether it is a whole number, where its value
// lives in a run's config (its default: a default SamplerConfig's), and the rule a value must keep.
struct OptionInfo {
  std::string name;
  bool whole;
  double (*get)(const SamplerConfig&);
  void (*set)(SamplerConfig&, double);
  bool (*valid)(double);
  std::string rule;  // what a valid value is: "must be in (0, 1)"
  std::string hint;  // how to choose one ("" or "; 0.8 is the default, ...")
};

struct SamplerInfo {
  std::string name;   // as the user writes it: "chees"
  std::string title;  // as its papers do: "ChEES"
  bool lockstep;      // many chains stepping together, one batch evaluation per step
  // why cfg.chains chains do not suit it (with its options), naming the fix ("" when they do)
  std::string (*chains_problem)(const SamplerConfig& cfg);
  std::unique_ptr<Run> (*make)(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                               std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume);
  // its part of a state saved in layout 2 (state_codec.hpp): the "ensemble" numbers of a chain of
  // `dim` parameters; nullptr for a sampler that kept none
  EnsembleState (*ensemble_from_v2)(const std::vector<double>& values, std::size_t dim);
  // its options beside the run's size (draws, tune, chains, seed): NUTS also takes metric= and adapt=
  std::vector<OptionInfo> options;
  bool takes_metric;
};

const std::vector<SamplerInfo>& samplers();
// the row of `name`; an unknown name throws std::invalid_argument listing the known ones
const SamplerInfo& sampler_info(const std::string& name);

// Every option name of every sampler, for reading them from a settings dict.
std::vector<std::string> option_names();

// cfg.sampler's options checked in this one place, with messages that name the option, its value, its
// default and the fix. `given`: the options the user gave, by name (each must be one of cfg.sampler's, and
// valid; the rest keep their defaults); metric and adapt as given ("" when not) are checked and resolved
// into cfg.chain (adapt's default: "fisher" for the low-rank metric, else Stan's windows). Throws
// std::invalid_argument.
void set_options(SamplerConfig& cfg, const std::map<std::string, double>& given, const std::string& metric,
                 const std::string& adapt);

// The names set_options reads, as it resolved them into cfg.chain ("diag", "dense", "low_rank"; "stan",
// "fisher", "nutpie"): a run's metric and adapt as the user writes them.
std::string metric_name(const ChainConfig& chain);
std::string adapt_name(const ChainConfig& chain);

// set_options, then the run's size (draws, tune, chains for this sampler, threads): every setting of a run.
void configure(SamplerConfig& cfg, const std::map<std::string, double>& given, const std::string& metric,
               const std::string& adapt);

}  // namespace brr::infer
