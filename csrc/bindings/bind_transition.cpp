// sampler_transition: one transition of NUTS, ChEES or MEADS from a given state, taken by the samplers'
// own transition code (Nuts::transition, EnsembleTransition, GhmcTransition), so a test can step them
// one at a time and check the state and the energy against a leapfrog computed by hand.
#include <pybind11/stl.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/bindings.hpp"
#include "bindings/numpy_span.hpp"
#include "bindings/program_density.hpp"
#include "infer/chees/transition.hpp"
#include "infer/meads/transition.hpp"
#include "infer/nuts/trajectory.hpp"
#include "infer/run.hpp"

namespace brr::bind {

namespace {

DArray rows_of(const py::dict& state, const char* key, std::size_t d) {
  if (!state.contains(key)) throw py::value_error(std::string("state has no '") + key + "'");
  DArray a = DArray::ensure(state[key]);
  if (!a || a.ndim() != 2 || a.shape(0) < 1 || static_cast<std::size_t>(a.shape(1)) != d)
    throw py::value_error(std::string("state['") + key + "'] must be a 2-d array of chains x " + std::to_string(d) +
                          " (the model's dimension)");
  return a;
}

double positive(const py::dict& state, const char* key) {
  if (!state.contains(key)) throw py::value_error(std::string("state has no '") + key + "'");
  const double v = state[key].cast<double>();
  if (!(v > 0) || !std::isfinite(v))
    throw py::value_error(std::string("state['") + key + "'] = " + std::to_string(v) + ": must be positive and finite");
  return v;
}

py::array_t<double> matrix(const std::vector<std::vector<double>>& rows) {
  const std::size_t B = rows.size(), d = rows.empty() ? 0 : rows[0].size();
  py::array_t<double> out({B, d});
  for (std::size_t c = 0; c < B; ++c) std::copy(rows[c].begin(), rows[c].end(), out.mutable_data() + c * d);
  return out;
}

// the log density and gradient at q: a usable point, else an error naming the chain
void start_at(infer::LogDensity& density, const double* q, std::size_t c, std::vector<double>& qv,
              std::vector<double>& g, double& lp) {
  const std::size_t d = density.dim();
  qv.assign(q, q + d);
  g.assign(d, 0.0);
  const infer::LogpStatus st = density.logp_grad(qv.data(), g.data(), lp);  // before usable() reads lp
  if (!infer::usable(st, lp, g.data(), d))
    throw py::value_error("state['position'][" + std::to_string(c) +
                          "]: the log density or its gradient is not finite there; start from a usable point");
}

}  // namespace

void bind_transition(py::module_& m) {
  m.def(
      "sampler_transition",
      [](std::shared_ptr<ir::Program> program, const std::string& sampler, const py::dict& state, uint64_t seed) {
        if (!program) throw py::value_error("program must be a compiled program");
        if (sampler != "nuts" && sampler != "chees" && sampler != "meads")
          throw py::value_error("sampler='" + sampler + "' is not known. Expected one of: 'nuts', 'chees', 'meads'");
        ProgramFactory factory(program, 1);
        const std::size_t d = factory.dim();
        const DArray q = rows_of(state, "position", d);
        const std::size_t B = static_cast<std::size_t>(q.shape(0));
        if (!state.contains("inv_metric")) throw py::value_error("state has no 'inv_metric'");
        const std::vector<double> minv = to_vector(as_1d(state["inv_metric"], "state['inv_metric']", static_cast<long>(d)));
        for (std::size_t i = 0; i < d; ++i)
          if (!(minv[i] > 0) || !std::isfinite(minv[i]))
            throw py::value_error("state['inv_metric'][" + std::to_string(i) + "] = " + std::to_string(minv[i]) +
                                  ": the inverse metric must be positive and finite");
        const double eps = positive(state, "step_size");
        std::unique_ptr<infer::LogDensity> density = factory.make();
        py::dict out;
        std::vector<std::vector<double>> pos(B), prop_q(B), prop_p(B), mom(B);
        std::vector<double> logp(B), energy(B), error(B), accept(B), slice(B);
        std::vector<int> steps(B), depth(B);
        std::vector<bool> divergent(B);
        std::vector<int> reason(B);  // a Divergence code
        if (sampler == "nuts") {
          const int max_depth = state.contains("max_treedepth") ? state["max_treedepth"].cast<int>() : 10;
          if (max_depth < 1 || max_depth > 30) throw py::value_error("state['max_treedepth'] must be in [1, 30]");
          infer::Metric metric(d, false);
          metric.set_inv_diag(minv);
          infer::Nuts nuts(*density, metric, max_depth);
          for (std::size_t c = 0; c < B; ++c) {
            infer::PhasePoint z;
            z.resize(d);
            start_at(*density, q.data() + c * d, c, z.q, z.g, z.logp);
            infer::Rng rng(seed, c);
            const infer::TransitionStats s = nuts.transition(z, eps, rng);
            pos[c] = z.q;
            logp[c] = s.logp, energy[c] = s.energy, error[c] = s.energy_error, accept[c] = s.accept_stat;
            steps[c] = s.n_leapfrog, depth[c] = s.depth, divergent[c] = s.divergent();
            reason[c] = static_cast<int>(s.reason);
          }
          out["depth"] = depth;
        } else if (sampler == "chees") {
          const int L = state.contains("steps") ? state["steps"].cast<int>() : 0;
          if (L < 1 || L > 100000) throw py::value_error("state['steps'] must be in [1, 100000] (leapfrog steps)");
          std::vector<infer::EnsembleMember> ms(B);
          for (std::size_t c = 0; c < B; ++c) {
            ms[c].rng = infer::Rng(seed, c);
            start_at(*density, q.data() + c * d, c, ms[c].q, ms[c].g, ms[c].lp);
            ms[c].prop.resize(d);
          }
          infer::Metric metric(d, false);
          metric.set_inv_diag(minv);
          infer::Hamiltonian ham(metric);
          std::unique_ptr<infer::BatchLogDensity> batch = factory.make_batch(B, 1);
          infer::EnsembleTransition transition(*batch, d);
          transition(ms, ham, L, eps);
          for (std::size_t c = 0; c < B; ++c) {
            const infer::EnsembleMember& e = ms[c];
            pos[c] = e.q, prop_q[c] = e.prop.q, prop_p[c] = e.prop.p;
            logp[c] = e.lp, energy[c] = e.energy, error[c] = e.energy_error, accept[c] = e.accept;
            steps[c] = L, divergent[c] = e.divergent;
            reason[c] = static_cast<int>(infer::divergence_of(e.divergent, e.energy_error, e.failure));
          }
        } else {
          const DArray p = rows_of(state, "momentum", d);
          if (static_cast<std::size_t>(p.shape(0)) != B)
            throw py::value_error("state['momentum'] must have a row per chain of state['position']");
          if (!state.contains("slice")) throw py::value_error("state has no 'slice'");
          const std::vector<double> u = to_vector(as_1d(state["slice"], "state['slice']", static_cast<long>(B)));
          infer::Tuning tuning;
          tuning.eps = eps;
          tuning.alpha = positive(state, "alpha");
          tuning.delta = state.contains("delta") ? state["delta"].cast<double>() : 0.5 * tuning.alpha;
          if (tuning.alpha > 1) throw py::value_error("state['alpha'] must be in (0, 1]");
          std::vector<double> sigma(d);
          for (std::size_t i = 0; i < d; ++i) sigma[i] = std::sqrt(minv[i]);
          tuning.set_sigma(std::move(sigma));
          std::vector<infer::GhmcMember> ms(B);
          for (std::size_t c = 0; c < B; ++c) {
            if (!(std::fabs(u[c]) <= 1)) throw py::value_error("state['slice'] values must be in [-1, 1]");
            ms[c].rng = infer::Rng(seed, c);
            start_at(*density, q.data() + c * d, c, ms[c].q, ms[c].g, ms[c].lp);
            ms[c].p.assign(p.data() + c * d, p.data() + (c + 1) * d);
            ms[c].u = u[c];
            ms[c].prop.resize(d);
          }
          std::unique_ptr<infer::BatchLogDensity> batch = factory.make_batch(B, 1);
          infer::GhmcTransition transition(*batch, d);
          transition(ms, std::vector<const infer::Tuning*>(B, &tuning), 1000.0);
          for (std::size_t c = 0; c < B; ++c) {
            const infer::GhmcMember& e = ms[c];
            pos[c] = e.q, prop_q[c] = e.prop.q, prop_p[c] = e.prop.p, mom[c] = e.p;
            logp[c] = e.lp, energy[c] = e.energy, error[c] = e.energy_error, accept[c] = e.accept;
            slice[c] = e.u, steps[c] = 1, divergent[c] = e.divergent;
            reason[c] = static_cast<int>(infer::divergence_of(e.divergent, e.energy_error, e.failure));
          }
          out["momentum"] = matrix(mom);
          out["slice"] = slice;
        }
        out["position"] = matrix(pos);
        if (sampler != "nuts") {
          out["proposal_position"] = matrix(prop_q);
          out["proposal_momentum"] = matrix(prop_p);
        }
        out["logp"] = logp, out["energy"] = energy, out["energy_error"] = error, out["accept"] = accept;
        out["n_steps"] = steps, out["diverging"] = divergent, out["divergence_reason"] = reason;
        return out;
      },
      py::arg("program"), py::arg("sampler"), py::arg("state"), py::arg("seed"),
      R"pbdoc(One transition of sampler ('nuts', 'chees' or 'meads') from state, chain c drawing from RNG stream
(seed, c). state: position (chains x dim), inv_metric (dim, diagonal), step_size; NUTS: max_treedepth;
ChEES: steps (its leapfrog steps L); MEADS: momentum (chains x dim, per unit of sqrt(inv_metric)), slice
(chains), alpha, delta. Returns the new positions and each chain's logp, energy, energy_error, accept,
n_steps, diverging, divergence_reason (a code of divergence_reasons()); ChEES and MEADS also the trajectory's end (proposal_position, proposal_momentum in
the metric's units); MEADS the new momentum and slice; NUTS the tree depth.)pbdoc");
}

}  // namespace brr::bind
