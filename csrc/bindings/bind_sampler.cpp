// Python entry points for running NUTS in background C++ threads and reading results back.
#include <pybind11/stl.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "bindings/bindings.hpp"
#include "bindings/numpy_span.hpp"
#include "bindings/program_density.hpp"
#include "bindings/state_dict.hpp"
#include "infer/meads/meads.hpp"
#include "infer/nuts/sampler.hpp"
#include "infer/registry.hpp"

namespace brr::bind {

using infer::ChainState;
using infer::Run;

namespace {

// Owns a run; releasing the GIL while joining lets chains that call back into Python finish.
struct PyRun {
  std::unique_ptr<Run> run;
  py::object batch_owner;  // the external batch evaluator's Python owner, alive while the run is
  ~PyRun() {
    if (!run) return;
    run->stop();
    py::gil_scoped_release release;
    run.reset();
  }
};

template <class T>
T get(const py::dict& d, const char* key, T fallback) {
  return d.contains(key) ? d[key].cast<T>() : fallback;
}

// A warm start's inverse metric: a diagonal (d values, each positive), or for a dense run a d x d matrix
// (symmetric, positive diagonal; the sampler's Cholesky refuses one that is not positive definite).
void check_warm_metric(const infer::ChainConfig& c, std::size_t d) {
  const std::vector<double>& w = c.warm_inv_metric;
  if (w.empty()) return;
  if (w.size() == d) {
    for (std::size_t i = 0; i < d; ++i)
      if (!(w[i] > 0)) throw py::value_error("warm_inv_metric[" + std::to_string(i) + "] must be positive");
    return;
  }
  if (w.size() != d * d || !c.dense)
    throw py::value_error("warm_inv_metric has " + std::to_string(w.size()) + " values; the model has " +
                          std::to_string(d) + " parameters (a diagonal of " + std::to_string(d) +
                          " values, or for metric='dense' a matrix of " + std::to_string(d * d) + ")");
  for (std::size_t i = 0; i < d; ++i) {
    if (!(w[i * d + i] > 0)) throw py::value_error("warm_inv_metric's diagonal must be positive");
    for (std::size_t k = 0; k < i; ++k)
      if (w[i * d + k] != w[k * d + i]) throw py::value_error("warm_inv_metric must be symmetric");
  }
}

// An option's value as the registry reads it (a number; metric and adapt are read apart)
double option_value(const std::string& name, const py::object& v) {
  auto not_a_number = [&] { return py::value_error(name + " must be a number, got " + py::repr(v).cast<std::string>()); };
  if (py::isinstance<py::bool_>(v) || py::isinstance<py::str>(v)) throw not_a_number();
  try {
    return v.cast<double>();
  } catch (const py::cast_error&) {
    throw not_a_number();
  }
}

std::string text_or_empty(const py::dict& d, const char* key) {
  return d.contains(key) && !d[key].is_none() ? d[key].cast<std::string>() : "";
}

// Missing keys keep SamplerConfig's own defaults (chain_state.hpp, sampler_options.hpp, run.hpp): the one
// place they are written. Python reads them through sampler_defaults() and samplers().
infer::SamplerConfig parse_config(const py::dict& d) {
  infer::SamplerConfig c;
  c.chain.draws = get<int>(d, "draws", c.chain.draws);
  c.chain.tune = get<int>(d, "tune", c.chain.tune);
  c.chains = get<int>(d, "chains", c.chains);
  c.sampler = get<std::string>(d, "sampler", c.sampler);
  c.threads = get<int>(d, "threads", c.threads);
  c.keep_warmup = get<bool>(d, "keep_warmup", c.keep_warmup);
  c.snapshot_every = get<int>(d, "snapshot_every", c.snapshot_every);
  if (c.snapshot_every < 0) throw py::value_error("snapshot_every must be >= 0 (0: snapshots only when asked)");
  c.chain.seed = get<uint64_t>(d, "seed", c.chain.seed);
  // the sampler's options as given (the registry's configure() checks each is one of cfg.sampler's)
  std::map<std::string, double> given;
  for (const std::string& name : infer::option_names())
    if (d.contains(name) && !d[name.c_str()].is_none()) given[name] = option_value(name, d[name.c_str()]);
  if (d.contains("warm_inv_metric") && !d["warm_inv_metric"].is_none()) {
    c.chain.warm_inv_metric = d["warm_inv_metric"].cast<std::vector<double>>();
    for (std::size_t i = 0; i < c.chain.warm_inv_metric.size(); ++i)
      if (!std::isfinite(c.chain.warm_inv_metric[i]))
        throw py::value_error("warm_inv_metric[" + std::to_string(i) + "] = " +
                              std::to_string(c.chain.warm_inv_metric[i]) + ": must be finite");
    c.chain.warm_prior_draws = get<double>(d, "warm_prior_draws", 0.0);
    if (!(c.chain.warm_prior_draws >= 0)) throw py::value_error("warm_prior_draws must be >= 0");
  }
  // metric and adapt as given ("" = not given: the registry's configure() resolves them)
  const std::string metric = text_or_empty(d, "metric"), adapt = text_or_empty(d, "adapt");
  if (d.contains("totals") && !d["totals"].is_none()) {
    c.totals = d["totals"].cast<std::vector<int>>();
    if (static_cast<int>(c.totals.size()) != c.chains)
      throw py::value_error("totals must give one iteration count per chain");
    for (int t : c.totals)
      if (t < 0) throw py::value_error("totals must be >= 0");
  }
  if (d.contains("chain_ids") && !d["chain_ids"].is_none()) {
    c.chain_ids = d["chain_ids"].cast<std::vector<uint64_t>>();
    if (static_cast<int>(c.chain_ids.size()) != c.chains)
      throw py::value_error("chain_ids must give one RNG stream per chain");
    for (uint64_t id : c.chain_ids)
      if (id > 4096) throw py::value_error("chain_ids must be in [0, 4096], got " + std::to_string(id));
  }
  infer::configure(c, given, metric, adapt);  // every setting checked, in the registry
  return c;
}

// A sampler's options in cfg, by name (whole numbers as int); metric and adapt where it takes them.
py::dict options_of(const infer::SamplerInfo& info, const infer::SamplerConfig& c) {
  py::dict out;
  for (const infer::OptionInfo& o : info.options) {
    const double v = o.get(c);
    if (o.whole) out[o.name.c_str()] = static_cast<long long>(v);
    else out[o.name.c_str()] = v;
  }
  if (info.takes_metric) {
    out["metric"] = infer::metric_name(c.chain);
    out["adapt"] = infer::adapt_name(c.chain);
  }
  return out;
}

// rows [first, last) of v (cols = 0: a vector) as a new numpy array
template <class T>
py::array_t<T> slice(const std::vector<T>& v, int first, int last, int cols = 0) {
  const int rows = last - first;
  py::array_t<T> a(cols == 0 ? std::vector<py::ssize_t>{rows} : std::vector<py::ssize_t>{rows, cols});
  cols = cols == 0 ? 1 : cols;
  std::copy(v.begin() + static_cast<std::ptrdiff_t>(first) * cols, v.begin() + static_cast<std::ptrdiff_t>(last) * cols,
            a.mutable_data());
  return a;
}

// The per-transition statistics a chain's trace holds, by name, in one list: put_stats copies them and
// stat_names() gives Python their names.
template <class F>
void for_each_stat(const infer::ChainTrace& t, F&& f) {
  f("step_size", t.step);
  f("energy", t.energy);
  f("energy_error", t.energy_error);
  f("acceptance_rate", t.accept);
  f("lp", t.lp);
  f("tree_depth", t.depth);
  f("n_steps", t.n_steps);
  f("diverging", t.diverging);
  f("divergence_reason", t.divergence_reason);
  f("warmup", t.warmup);
}

// the statistics of rows [first, last) of a chain's trace, copied into d (the draws apart: trace() may
// hand them over without a copy)
void put_stats(py::dict& d, const infer::ChainTrace& t, int first, int last) {
  for_each_stat(t, [&](const char* name, const auto& v) { d[name] = slice(v, first, last); });
}

// the first rows x cols of v as a numpy array that takes v's buffer over (v is left empty)
py::array_t<double> take_rows(std::vector<double>& v, int rows, int cols) {
  auto owned = std::make_unique<std::vector<double>>(std::move(v));
  v = std::vector<double>();
  double* data = owned->data();
  py::capsule keep(owned.get(), [](void* p) { delete static_cast<std::vector<double>*>(p); });
  owned.release();  // the capsule owns it now
  return py::array_t<double>({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)}, data, keep);
}

}  // namespace

void bind_sampler(py::module_& m) {
  m.def("stat_names", [] {
    std::vector<std::string> names;
    for_each_stat(infer::ChainTrace{}, [&](const char* name, const auto&) { names.emplace_back(name); });
    return names;
  }, "The names of the per-transition statistics a run's trace() gives, in order (one list: for_each_stat).");
  m.def("divergence_reasons", [] {
    py::list out;
#define BRR_DIVERGENCE_ROW(e, code, name, text) out.append(py::make_tuple(code, name, text));
    BRR_DIVERGENCE_REASONS(BRR_DIVERGENCE_ROW)
#undef BRR_DIVERGENCE_ROW
    return out;
  }, "(code, name, meaning) of each cause of a divergence the divergence_reason statistic records "
     "(csrc/common/divergence.hpp), code 0 meaning none.");
  m.def("upgrade_sampler_state", [](const py::dict& state, const std::string& sampler) {
    infer::sampler_info(sampler);  // an unknown name: ValueError listing the known ones
    return state_to_dict(state_from_dict(state, sampler));
  }, py::arg("state"), py::arg("sampler"),
     "A chain's saved state (any earlier layout) in the current one (infer/state_codec.hpp), for a run of "
     "`sampler`; raises ValueError naming a missing or malformed field.");
  m.def("sampler_options", [](const std::string& sampler, const py::dict& options) {
    infer::SamplerConfig c;
    c.sampler = sampler;
    const infer::SamplerInfo& info = infer::sampler_info(sampler);  // an unknown name: ValueError listing them
    std::map<std::string, double> given;
    for (const auto& [key, value] : options) {
      const std::string name = key.cast<std::string>();
      if (name != "metric" && name != "adapt" && !value.is_none())
        given[name] = option_value(name, py::reinterpret_borrow<py::object>(value));
    }
    infer::set_options(c, given, text_or_empty(options, "metric"), text_or_empty(options, "adapt"));
    return options_of(info, c);
  }, py::arg("sampler"), py::arg("options"),
     "`sampler`'s options with `options` (by name) given and the rest at their defaults, each checked by the "
     "registry (csrc/infer/registry.cpp); raises ValueError naming an option it does not take or a bad value.");
  m.def("samplers", [] {
    py::list out;
    for (const infer::SamplerInfo& s : infer::samplers()) {
      py::dict row;
      row["name"] = s.name;
      row["title"] = s.title;
      row["lockstep"] = s.lockstep;
      row["options"] = options_of(s, infer::SamplerConfig{});
      out.append(row);
    }
    return out;
  }, "The sampler registry's rows (csrc/infer/registry.cpp): name, title, lockstep, and options (each option's "
     "default by name; NUTS's include metric and adapt).");
  m.def("check_sampler_config", [](const py::dict& d) {
    const infer::SamplerConfig c = parse_config(d);
    py::dict out;
    out["sampler"] = c.sampler;
    out["draws"] = c.chain.draws;
    out["tune"] = c.chain.tune;
    out["chains"] = c.chains;
    out["keep_warmup"] = c.keep_warmup;
    const infer::SamplerInfo& info = infer::sampler_info(c.sampler);
    out["options"] = options_of(info, c);
    return out;
  }, py::arg("config"),
     "A run's sampler settings checked as start_sampling checks them (the registry's configure: one place), "
     "with the sampler's options (its row's, defaults filled in) under 'options'; raises ValueError naming the "
     "setting.");
  m.def("sampler_defaults", [] {
    const infer::SamplerConfig c;
    py::dict d;
    d["draws"] = c.chain.draws;
    d["tune"] = c.chain.tune;
    d["chains"] = c.chains;
    d["sampler"] = c.sampler;
    return d;
  }, "A run's default size and sampler (SamplerConfig in csrc/infer: the one place they are written); each "
     "sampler's options and their defaults are its row of samplers().");
  py::class_<PyRun>(m, "SamplerRun", "Chains of a sampler (NUTS, ChEES) running on C++ threads.")
      .def("progress", [](const PyRun& r) {
        py::list out;
        for (const auto& t : r.run->traces) {
          py::dict d;
          d["done"] = t->done.load();
          d["divergences"] = t->divergences.load();
          d["step_size"] = t->step_size.load();
          d["saved"] = t->saved.load();       // rows recorded
          out.append(d);
        }
        return out;
      })
      .def("finished", [](const PyRun& r) { return r.run->finished(); })
      .def("wait", [](const PyRun& r, double seconds) {
        if (!(seconds >= 0.0)) throw py::value_error("wait: seconds must be >= 0, got " + std::to_string(seconds));
        // polled every 0.2 ms without the GIL: a short checkpoint segment is seen to end at once, and
        // Python gets control back at least every `seconds` for Ctrl-C and the progress bar
        py::gil_scoped_release release;
        const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (!r.run->finished() && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        return r.run->finished();
      }, py::arg("seconds"), "Wait until the run has finished or `seconds` have passed; whether it has finished.")
      .def("stop", [](PyRun& r) { r.run->stop(); })
      .def("stopped", [](const PyRun& r) { return r.run->stopped(); })
      .def("join", [](PyRun& r) {
        py::gil_scoped_release release;
        r.run->join();
      })
      .def("error", [](const PyRun& r, int c) { return r.run->traces.at(c)->error; })
      .def("grad_evals", [](const PyRun& r, int c) {
        if (c < 0 || c >= static_cast<int>(r.run->traces.size()))
          throw py::index_error("grad_evals: chain " + std::to_string(c) + " is not in this run");
        if (!r.run->finished()) throw py::value_error("grad_evals: the run is still sampling; join() it first");
        return r.run->traces[static_cast<std::size_t>(c)]->grad_evals;
      }, py::arg("c"), "Chain c's gradient evaluations in this run (once it has finished).")
      .def("request_snapshot", [](PyRun& r) { r.run->request_snapshot(); },
           "Every chain takes a snapshot at the end of its current iteration (read them with snapshots(c)).")
      .def("snapshots", [](PyRun& r, int c) {
        if (c < 0 || c >= static_cast<int>(r.run->traces.size()))
          throw py::index_error("snapshots: chain " + std::to_string(c) + " is not in this run");
        py::list out;
        for (auto& s : r.run->traces[static_cast<std::size_t>(c)]->take_snapshots()) {
          py::dict d;
          d["rows"] = s.rows;
          d["grad_evals"] = s.grad_evals;
          d["state"] = state_to_dict(s.state);
          out.append(d);
        }
        return out;
      }, py::arg("c"), "Chain c's snapshots taken since the last call, oldest first: {rows, grad_evals, state}.")
      .def("rows", [](const PyRun& r, int c, int first, int last) {
        if (c < 0 || c >= static_cast<int>(r.run->traces.size()))
          throw py::index_error("rows: chain " + std::to_string(c) + " is not in this run");
        const auto& t = *r.run->traces[static_cast<std::size_t>(c)];
        // rows below `saved` are written and never touched again: safe to copy while the chain runs
        if (first < 0 || first > last || last > t.saved.load() ||
            t.draws.size() < static_cast<std::size_t>(last) * static_cast<std::size_t>(t.dim))
          throw py::value_error("rows: [" + std::to_string(first) + ", " + std::to_string(last) + ") is not a range of "
                                "chain " + std::to_string(c) + "'s " + std::to_string(t.saved.load()) + " recorded rows");
        py::dict d;
        d["draws"] = slice(t.draws, first, last, t.dim);
        put_stats(d, t, first, last);
        return d;
      }, py::arg("c"), py::arg("first"), py::arg("last"),
      "Rows [first, last) of chain c's draws and statistics, copied; readable while the chain runs.")
      .def("state", [](const PyRun& r, int c) -> py::object {
        const auto& t = *r.run->traces.at(c);
        if (!t.has_state) return py::none();
        return state_to_dict(t.final_state);
      })
      .def("trace", [](const PyRun& r, int c, bool take) {
        if (c < 0 || c >= static_cast<int>(r.run->traces.size()))
          throw py::index_error("trace: chain " + std::to_string(c) + " is not in this run of " +
                                std::to_string(r.run->traces.size()) + " chains");
        auto& t = *r.run->traces[static_cast<std::size_t>(c)];
        const int n = t.saved.load();
        if (t.draws.size() < static_cast<std::size_t>(n) * static_cast<std::size_t>(t.dim))
          throw py::value_error("trace: chain " + std::to_string(c) + "'s draws were taken (trace(c, take=True)); "
                                "they are in the array that call returned");
        py::dict d;
        if (take) {  // the draws move to numpy without a copy: a run's largest buffer is not held twice
          if (!r.run->finished())
            throw py::value_error("trace(take=True): the run is still sampling; join() it first");
          d["draws"] = take_rows(t.draws, n, t.dim);
        } else {
          d["draws"] = slice(t.draws, 0, n, t.dim);
        }
        put_stats(d, t, 0, n);
        d["grad_evals"] = t.grad_evals;
        return d;
      }, py::arg("c"), py::arg("take") = false,
      "Chain c's draws and statistics so far. take=True (a finished run) hands the draws over without a copy, "
      "leaving the run without them.");

  m.def("start_sampling",
        [](py::object model, py::dict config, py::list inits, py::list states, py::object batch) {
          std::shared_ptr<const infer::LogDensityFactory> factory;
          const BrrExternalBatch* ext = nullptr;
          std::vector<const BrrExternalBatch*> chain_exts;  // NUTS on a device: one single-lane evaluator per chain
          auto capsule_of = [&](py::handle owner) {
            if (!py::isinstance<ir::Program>(model)) throw py::type_error("batch= needs a Program model");
            py::object cap = owner.attr("batch_capsule")();
            if (!PyCapsule_IsValid(cap.ptr(), kExternalBatchCapsule))
              throw py::type_error("batch must give a brr_bayes.external_batch capsule (a device evaluator)");
            const auto* e = static_cast<const BrrExternalBatch*>(PyCapsule_GetPointer(cap.ptr(), kExternalBatchCapsule));
            if (e->dim != model.cast<std::shared_ptr<ir::Program>>()->dim())
              throw py::value_error("the device evaluator was made for a model of another dimension");
            return e;
          };
          if (py::isinstance<py::list>(batch)) {
            for (py::handle owner : py::list(batch)) {
              const BrrExternalBatch* e = capsule_of(owner);
              if (e->lanes != 1) throw py::value_error("per-chain device evaluators must hold one point each");
              chain_exts.push_back(e);
            }
            if (static_cast<int>(chain_exts.size()) != get<int>(config, "chains", 4))
              throw py::value_error("give one device evaluator per chain");
          } else if (!batch.is_none()) {
            ext = capsule_of(batch);
          }
          if (!chain_exts.empty()) {
            factory = std::make_shared<ExternalChainsFactory>(model.cast<std::shared_ptr<ir::Program>>(), chain_exts);
          } else if (ext) {
            factory = std::make_shared<ExternalBatchFactory>(model.cast<std::shared_ptr<ir::Program>>(), ext);
          } else if (py::isinstance<ir::Program>(model)) {
            const int row_threads = get<int>(config, "row_threads", 1);
            if (row_threads < 1 || row_threads > 1024)
              throw py::value_error("threads_per_chain must be between 1 and 1024, got " + std::to_string(row_threads));
            factory = std::make_shared<ProgramFactory>(model.cast<std::shared_ptr<ir::Program>>(), row_threads);
          } else if (py::isinstance<py::tuple>(model) && py::len(model) == 2) {
            py::tuple t = model;
            const long dim = t[1].cast<long>();
            if (dim < 1) throw py::value_error("log density dimension must be >= 1");
            if (!PyCallable_Check(t[0].ptr())) throw py::type_error("log density must be callable");
            factory = std::make_shared<CallableFactory>(t[0], static_cast<std::size_t>(dim));
          } else {
            throw py::type_error("model must be a Program or a (callable, dim) pair");
          }
          infer::SamplerConfig cfg = parse_config(config);
          check_warm_metric(cfg.chain, factory->dim());
          if (!cfg.chain.warm_inv_metric.empty() && cfg.sampler != "nuts")
            throw py::value_error("a warm start (warm_inv_metric) is for sampler='nuts'; sampler='" + cfg.sampler +
                                  "' adapts its metric across its chains from their states");
          std::vector<std::vector<double>> iv;
          for (py::handle h : inits) {
            if (h.is_none()) iv.emplace_back();
            else iv.push_back(to_vector(as_1d(h, "init", static_cast<long>(factory->dim()))));
          }
          std::vector<std::optional<ChainState>> sv;
          for (py::handle h : states) {
            if (h.is_none()) {  // a chain an interrupted run never started: it starts afresh
              sv.emplace_back();
              continue;
            }
            sv.emplace_back(state_from_dict(h.cast<py::dict>(), cfg.sampler));
            if (sv.back()->position.size() != factory->dim())
              throw py::value_error("sampler state has the wrong dimension for this model");
          }
          auto r = std::make_unique<PyRun>();
          r->batch_owner = batch;
          try {
            r->run = infer::make_run(factory, cfg, std::move(iv), std::move(sv));
          } catch (const std::invalid_argument& e) {
            throw py::value_error(e.what());
          }
          r->run->start();
          return r;
        },
        py::arg("model"), py::arg("config"), py::arg("inits") = py::list(), py::arg("states") = py::list(),
        py::arg("batch") = py::none(),
        R"pbdoc(Start the chains of config["sampler"] (NUTS by default, or ChEES) in background threads; poll progress(), then join() and read trace(c). batch: an object whose batch_capsule() gives an external batch evaluator (a device executor) for a lock-step sampler's batches, or a list of single-lane ones, one per NUTS chain.)pbdoc");

  m.def("momentum_normals",
        [](uint64_t seed, uint64_t chain, long n) {
          if (n < 0 || n > 100000000) throw py::value_error("momentum_normals: n must be in [0, 1e8], got " + std::to_string(n));
          if (chain > 4096) throw py::value_error("momentum_normals: chain must be in [0, 4096], got " + std::to_string(chain));
          infer::Rng rng(seed, chain);
          py::array_t<double> out(n);
          rng.normals(out.mutable_data(), static_cast<std::size_t>(n));
          return out;
        },
        py::arg("seed"), py::arg("chain"), py::arg("n"),
        R"pbdoc(The first n standard normals the sampler's generator gives chain `chain` under `seed` (for tests).)pbdoc");
}

}  // namespace brr::bind
