// The sampler registry and the one check of a run's settings: see registry.hpp.
#include "infer/registry.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "infer/chees/chees.hpp"
#include "infer/meads/meads.hpp"
#include "infer/nuts/sampler.hpp"

namespace brr::infer {

namespace {

template <class R>
std::unique_ptr<Run> make(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                          std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume) {
  return std::make_unique<R>(std::move(factory), std::move(cfg), std::move(inits), std::move(resume));
}

std::string any_chains(int) { return ""; }

std::string chees_chains(int chains) {
  if (chains >= 2) return "";
  return "sampler='chees' learns its step size, trajectory length and metric across chains: pass chains >= 2 "
         "(tens to hundreds), got " + std::to_string(chains);
}

std::string meads_chains(int chains) {
  const int K = MeadsSettings{}.folds;
  if (chains >= 2 * K && chains % K == 0) return "";
  return "sampler='meads' splits its chains into " + std::to_string(K) + " folds that tune each other: pass chains a "
         "multiple of " + std::to_string(K) + ", at least " + std::to_string(2 * K) + " (tens to hundreds), got " +
         std::to_string(chains);
}

std::string number(double v) {  // as Python prints it: the shortest form that reads back the same
  for (int digits = 6; digits <= 17; ++digits) {
    std::ostringstream s;
    s.precision(digits);
    s << v;
    if (std::stod(s.str()) == v || !std::isfinite(v)) return s.str();
  }
  return std::to_string(v);
}

std::string known(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

}  // namespace

const std::vector<SamplerInfo>& samplers() {
  static const std::vector<SamplerInfo> table = {
      {"nuts", "NUTS", false, any_chains, make<SamplerRun>},
      {"chees", "ChEES", true, chees_chains, make<CheesRun>},
      {"meads", "MEADS", true, meads_chains, make<MeadsRun>},
  };
  return table;
}

const SamplerInfo& sampler_info(const std::string& name) {
  std::vector<std::string> names;
  for (const SamplerInfo& s : samplers()) {
    if (s.name == name) return s;
    names.push_back(s.name);
  }
  throw std::invalid_argument("sampler='" + name + "' is not known. Expected one of: " + known(names));
}

std::vector<std::string> sampler_names() {
  std::vector<std::string> names;
  for (const SamplerInfo& s : samplers()) names.push_back(s.name);
  return names;
}

void configure(SamplerConfig& cfg, const std::string& metric, const std::string& adapt) {
  const SamplerInfo& info = sampler_info(cfg.sampler);
  auto fail = [](const std::string& why) { throw std::invalid_argument(why); };
  if (info.lockstep && ((!metric.empty() && metric != "diag") || !adapt.empty()))
    fail("sampler='" + info.name + "' adapts a diagonal metric across chains; leave metric= and adapt= out");
  if (cfg.chain.draws < 0) fail("draws must be a non-negative integer, got " + std::to_string(cfg.chain.draws));
  if (cfg.chain.tune < 0) fail("tune must be a non-negative integer, got " + std::to_string(cfg.chain.tune));
  if (cfg.chains < 1) fail("chains must be a positive integer, got " + std::to_string(cfg.chains));
  const std::string chains = info.chains_problem(cfg.chains);
  if (!chains.empty()) fail(chains);
  if (cfg.threads < 1) fail("cores must be a positive integer or None, got " + std::to_string(cfg.threads));
  if (!(cfg.chain.target_accept > 0 && cfg.chain.target_accept < 1))
    fail("target_accept must be in (0, 1), got " + number(cfg.chain.target_accept) +
         "; 0.8 is the default, 0.95-0.99 for hard geometry");
  if (cfg.chain.max_depth < 1 || cfg.chain.max_depth > 30)
    fail("max_treedepth must be in [1, 30], got " + std::to_string(cfg.chain.max_depth));
  if (!(cfg.chain.initial_step_size > 0) || !std::isfinite(cfg.chain.initial_step_size))
    fail("step_size must be positive and finite, got " + number(cfg.chain.initial_step_size));
  const std::string m = metric.empty() ? "diag" : metric;  // SamplerConfig's default
  if (m != "diag" && m != "dense" && m != "low_rank")
    fail("metric='" + m + "' is not known. Expected one of: 'diag', 'dense', 'low_rank'");
  const std::string a = !adapt.empty() ? adapt : m == "low_rank" ? "fisher" : "stan";
  if (m == "low_rank" && a != "fisher")
    fail("metric='low_rank' is estimated from draws and gradients in Stan's windows; use adapt='fisher' (or leave "
         "adapt=None), not adapt='" + a + "'");
  if (a != "stan" && a != "fisher" && a != "nutpie")
    fail("adapt='" + a + "' is not known. Expected one of: 'stan', 'fisher', 'nutpie'");
  cfg.chain.dense = m == "dense";
  cfg.chain.low_rank = m == "low_rank";
  cfg.chain.adapt = a == "fisher" ? AdaptKind::Fisher : a == "nutpie" ? AdaptKind::Nutpie : AdaptKind::Stan;
}

std::unique_ptr<Run> make_run(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                              std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume) {
  const SamplerInfo& info = sampler_info(cfg.sampler);
  const std::string chains = info.chains_problem(cfg.chains);
  if (!chains.empty()) throw std::invalid_argument(chains);
  return info.make(std::move(factory), std::move(cfg), std::move(inits), std::move(resume));
}

}  // namespace brr::infer
