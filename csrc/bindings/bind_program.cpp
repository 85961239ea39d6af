// Python entry points for building and evaluating a Program; every entry validates its inputs.
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "ad/batch.hpp"
#include "ad/executor.hpp"
#include "ir/logp_ops.hpp"
#include "ir/program_io.hpp"
#include "backend/grid_executor.hpp"
#include "backend/host_dev.hpp"
#include "common/external_batch.hpp"
#include "common/row_pool.hpp"
#include "bindings/bindings.hpp"
#include "bindings/device_calls.hpp"
#include "bindings/numpy_span.hpp"
#include "bindings/program_density.hpp"
#include "common/errors.hpp"

namespace brr::bind {

namespace {

// The device executor's kernels on the host, as a device evaluator a run can take (device="cuda-emulated").
// Several may share one copy of the program's device data (NUTS: one single-lane evaluator per chain).
struct HostGridDevice {
  using Executor = backend::GridExecutor<backend::HostDev>;
  Executor ex;  // holds the Program alive itself
  BrrExternalBatch ext{};
  HostGridDevice(std::shared_ptr<ir::Program> p, std::size_t lanes) : ex(p, lanes) { set_trajectories(true); }
  HostGridDevice(const HostGridDevice& share, std::size_t lanes) : ex(share.ex.data(), lanes) { set_trajectories(true); }
  HostGridDevice(const HostGridDevice&) = delete;
  HostGridDevice& operator=(const HostGridDevice&) = delete;
  void set_trajectories(bool on) { ext = external_batch_of(&ex, ex.lanes(), ex.dim(), on); }
};

}  // namespace

using ir::Program;

namespace {

int checked_threads(long row_threads) {
  if (row_threads < 1 || row_threads > 1024)
    throw py::value_error("row_threads must be between 1 and 1024, got " + std::to_string(row_threads));
  return static_cast<int>(row_threads);
}

double eval(Program& p, ad::Workspace& ws, const DArray& x, double* grad) {
  return ad::logp_grad(p, ws, ConstSpan{x.data(), static_cast<std::size_t>(x.size())},
                     Span{grad, grad ? p.dim() : 0});
}

}  // namespace

void bind_program(py::module_& m) {
  py::register_exception<ShapeError>(m, "ProgramError", PyExc_ValueError);
  m.def("_cut_segments", [](const std::vector<int32_t>& start) {
    if (start.empty() || start[0] != 0) throw py::value_error("start must begin with 0");
    for (std::size_t j = 1; j < start.size(); ++j)
      if (start[j] < start[j - 1]) throw py::value_error("start must not decrease");
    const backend::SegmentCuts c = backend::cut_segments(start);
    return py::make_tuple(c.bounds, c.last_start);
  }, py::arg("start"),
  "(bounds per level, last level's segment starts): how the device executor cuts long segments for its "
  "segmented sums (backend/segment_sums.hpp); for tests.");
  m.def("op_table", [] {
    py::dict d;
#define BRR_OP(name, code, py, ...) d[#py] = code;
#include "ir/ops.def"
#undef BRR_OP
    return d;
  }, "The op table compiled into the core ({Python constant: code}, from csrc/ir/ops.def).");
  m.def("glm_codes", [] {
    py::dict d;
#define BRR_GLM_FAMILY(C, code, pyname, name) d[#pyname] = py::int_(static_cast<int>(C));
#define BRR_TERM_KIND(C, code, pyname) d[#pyname] = py::int_(static_cast<int>(C));
#include "ir/glm.def"
#undef BRR_TERM_KIND
#undef BRR_GLM_FAMILY
    return d;
  }, "The GLM families and term kinds compiled into the core ({Python constant: code}, from csrc/ir/glm.def).");
  m.def("op_signatures", [] {
    py::dict d;
#define BRR_OP(name, code, ...)                                       \
  {                                                                   \
    const ir::OpSignature s = ir::op_signature(ir::OpCode::name);     \
    d[py::int_(code)] = py::make_tuple(s.min_inputs, s.max_inputs, s.indices, s.min_int_params, s.has_output); \
  }
#include "ir/ops.def"
#undef BRR_OP
    return d;
  }, "Each op's signature as the core checks it ({code: (inputs min, inputs max, index arrays, int params, output)}).");

  py::class_<Program, std::shared_ptr<Program>>(m, "Program", R"pbdoc(
A compiled model: slots of doubles, index arrays and a list of array operations.
Built by brr_bayes.compile; not meant to be assembled by hand.)pbdoc")
      .def(py::init([](long dim) {
             if (dim < 0) throw py::value_error("Program: dim must be >= 0, got " + std::to_string(dim));
             return std::make_shared<Program>(static_cast<std::size_t>(dim));
           }),
           py::arg("dim"))
      .def(py::pickle(
          [](const Program& p) { return py::bytes(ir::serialize(p)); },
          [](const py::bytes& b) { return ir::deserialize(std::string(b)); }))
      .def("to_bytes", [](const Program& p) { return py::bytes(ir::serialize(p)); },
           "The program as bytes (format version, construction record, checksum); Program.from_bytes reads them.")
      .def_static("from_bytes", [](py::handle b) {
             if (!PyBytes_Check(b.ptr())) throw py::type_error("Program.from_bytes takes bytes, got " +
                                                                std::string(py::str(py::type::of(b).attr("__name__"))));
             return ir::deserialize(std::string(b.cast<py::bytes>()));
           }, py::arg("data"),
           "Rebuild a program from Program.to_bytes() output, re-validating every op; ProgramError if the bytes are "
           "corrupted, truncated or of another format version.")
      .def("ops_for", [](const Program& p, std::vector<int> slots) { return p.ops_for(slots); }, py::arg("slots"),
           "Positions in op_codes() of the ops that compute the given slots.")
      .def("logp_ops", [](const Program& p) { return ir::logp_ops(p); },
           "Positions in op_codes() of the ops a log density evaluation runs (not those computing only "
           "deterministics).")
      .def("op_codes", [](const Program& p) {
             std::vector<int> codes;
             for (const ir::Op& op : p.ops()) codes.push_back(static_cast<int>(op.code));
             return codes;
           }, "The op list's codes in execution order (brr_bayes.ops names them): what the compiler made.")
      .def_property_readonly("format_version", [](const Program&) { return ir::kProgramFormat; })
      .def_property_readonly("dim", &Program::dim)
      .def_property_readonly("num_slots", &Program::num_slots)
      .def_property_readonly("row_chunked", &Program::row_chunked,
                             "Whether some GLM likelihood splits its rows into chunks that row threads share.")
      .def("slot_size", [](const Program& p, int s) {
        if (s < 0 || s >= static_cast<int>(p.num_slots())) throw py::index_error("no slot " + std::to_string(s));
        return p.slot(s).size;
      })
      .def("index_bits", [](const Program& p, int id) {
             if (id < 0 || id >= static_cast<int>(p.num_indices()))
               throw py::index_error("no index array " + std::to_string(id));
             const ir::NarrowIndex& nx = p.narrow_index(id);
             return nx.u8.empty() ? (nx.u16.empty() ? 32 : 16) : 8;
           }, "Bits per entry the CPU row kernels read for index array `id` (8, 16 or 32; ir/narrow.hpp).")
      .def("coded_values", [](const Program& p, int s) {
             if (s < 0 || s >= static_cast<int>(p.num_slots())) throw py::index_error("no slot " + std::to_string(s));
             const ir::CodedColumn* c = p.coded(s);
             return c ? c->table.size() : std::size_t{0};
           }, "Distinct values of constant slot `s` when the row kernels read it as one-byte codes, else 0.")
      .def("add_slot", [](Program& p, long size) {
        if (size < 0) throw py::value_error("add_slot: size must be >= 0");
        return p.add_slot(static_cast<std::size_t>(size));
      })
      .def("add_const", [](Program& p, py::handle values) {
        DArray a = DArray::ensure(values);
        if (!a) throw py::type_error("add_const: values must be convertible to float64");
        return p.add_const(a.data(), static_cast<std::size_t>(a.size()));
      })
      .def("add_view", &Program::add_view, py::arg("parent"), py::arg("offset"), py::arg("size"))
      .def("add_index", [](Program& p, py::handle values, long bound) {
        IArray a = IArray::ensure(values);
        if (!a) throw py::type_error("add_index: values must be integers");
        return p.add_index(a.data(), static_cast<std::size_t>(a.size()), bound);
      })
      .def("add_function", [](Program& p, const Program& body, int out) { return p.add_function(body, out); },
           py::arg("body"), py::arg("out"),
           "Adds a pure function (a Program whose slot `out` is f of its input vector) for Scan and OdeSolve ops; "
           "the body is copied. Returns its id.")
      .def("num_functions", &Program::num_functions)
      .def("add_op",
           [](Program& p, int code, std::vector<int> in, int out, std::vector<int> idx, std::vector<int64_t> ip,
              std::vector<double> dp) {
             ir::Op op{static_cast<ir::OpCode>(code), std::move(in), out, std::move(idx), std::move(ip),
                       std::move(dp)};
             p.add_op(std::move(op));
           },
           py::arg("code"), py::arg("inputs"), py::arg("out"), py::arg("idx") = std::vector<int>{},
           py::arg("ip") = std::vector<int64_t>{}, py::arg("dp") = std::vector<double>{})
      .def("logp", [](Program& p, py::handle x) {
        DArray a = as_1d(x, "x", static_cast<long>(p.dim()));
        ad::Workspace ws = ad::make_workspace(p);
        return eval(p, ws, a, nullptr);
      }, py::arg("x"), "Log density at the unconstrained point x.")
      .def("logp_and_grad", [](Program& p, py::handle x, long row_threads) {
        DArray a = as_1d(x, "x", static_cast<long>(p.dim()));
        const int threads = checked_threads(row_threads);
        DArray g(static_cast<py::ssize_t>(p.dim()));
        double* gp = g.mutable_data();
        double lp;
        {
          py::gil_scoped_release release;
          ad::Workspace ws = ad::make_workspace(p, threads);
          lp = eval(p, ws, a, gp);
        }
        return py::make_tuple(lp, g);
      }, py::arg("x"), py::arg("row_threads") = 1,
      "(log density, gradient) at the unconstrained point x; row_threads split large GLM likelihoods.")
      .def("eval_slots", [](Program& p, py::handle xs, std::vector<int> slots) {
        DArray X = DArray::ensure(xs);
        if (!X || X.ndim() != 2 || X.shape(1) != static_cast<py::ssize_t>(p.dim()))
          throw py::value_error("eval_slots: points must be a 2-d float array with " + std::to_string(p.dim()) +
                                " columns");
        for (int s : slots)
          if (s < 0 || s >= static_cast<int>(p.num_slots())) throw py::index_error("no slot " + std::to_string(s));
        const py::ssize_t n = X.shape(0);
        std::vector<DArray> outs;
        for (int s : slots) outs.emplace_back(std::vector<py::ssize_t>{n, static_cast<py::ssize_t>(p.slot(s).size)});
        std::vector<double*> dst;
        for (auto& o : outs) dst.push_back(o.mutable_data());
        {
          py::gil_scoped_release release;
          const std::vector<std::size_t> needed = p.ops_for(slots);  // not the likelihood
          // rows in blocks over the cores (a many-chain Result has millions of draws); each row's values
          // are a function of that row alone, so the threads change nothing
          constexpr py::ssize_t kRows = 256;
          const std::size_t tasks = static_cast<std::size_t>((n + kRows - 1) / kRows);
          const int threads = static_cast<int>(std::min<std::size_t>(
              std::max(1u, std::min(8u, std::thread::hardware_concurrency())), std::max<std::size_t>(tasks, 1)));
          RowPool pool(threads);
          std::vector<ad::Workspace> ws;
          for (int t = 0; t < pool.size(); ++t) ws.push_back(ad::make_workspace(p));
          pool.run(tasks, [&](std::size_t task, int worker) {
            const py::ssize_t r1 = std::min(n, static_cast<py::ssize_t>(task + 1) * kRows);
            for (py::ssize_t r = static_cast<py::ssize_t>(task) * kRows; r < r1; ++r) {
              ad::forward_only(p, ws[static_cast<std::size_t>(worker)], ConstSpan{X.data() + r * p.dim(), p.dim()}, needed);
              for (std::size_t k = 0; k < slots.size(); ++k)
                ad::copy_slot(p, ws[static_cast<std::size_t>(worker)], slots[k], dst[k] + r * p.slot(slots[k]).size);
            }
          });
        }
        py::list res;
        for (auto& o : outs) res.append(o);
        return res;
      }, py::arg("points"), py::arg("slots"),
      "Values of the given slots at each row of points (n, dim); runs only the ops those slots depend on.")
      .def("logp_and_grad_batch", [](std::shared_ptr<Program> p, py::handle xs, long threads, bool grad, long tile) {
        DArray X = DArray::ensure(xs);
        if (!X || X.ndim() != 2 || X.shape(1) != static_cast<py::ssize_t>(p->dim()) || X.shape(0) < 1)
          throw py::value_error("logp_and_grad_batch: points must be a 2-d float array (B >= 1, " +
                                std::to_string(p->dim()) + " columns)");
        const int th = checked_threads(threads);
        const py::ssize_t B = X.shape(0);
        DArray lp(B);
        DArray G(std::vector<py::ssize_t>{grad ? B : 0, static_cast<py::ssize_t>(p->dim())});
        double* lpp = lp.mutable_data();
        double* gp = grad ? G.mutable_data() : nullptr;
        {
          py::gil_scoped_release release;
          ad::BatchEvaluator ev(p, static_cast<std::size_t>(B), th, tile < 0 ? ad::BatchEvaluator::kScalar
                                                                               : static_cast<std::size_t>(tile));
          ev.logp_grad(X.data(), gp, lpp);
        }
        return py::make_tuple(lp, G);
      }, py::arg("points"), py::arg("threads") = 1, py::arg("grad") = true, py::arg("tile") = 8,
      "(logp (B,), gradients (B, dim)) at each row of points (B, dim) through the batch executor: lane "
      "kernels over groups of `tile` rows (tile=0: timed choice, -1: one scalar evaluation per row). "
      "Each row's result equals logp_and_grad's bit for bit.")
      .def("benchmark_batch", [](std::shared_ptr<Program> p, py::handle xs, long rounds, long threads, long tile) {
        DArray X = DArray::ensure(xs);
        if (!X || X.ndim() != 2 || X.shape(1) != static_cast<py::ssize_t>(p->dim()) || X.shape(0) < 1)
          throw py::value_error("benchmark_batch: points must be a 2-d float array with " + std::to_string(p->dim()) +
                                " columns");
        if (rounds < 1) throw py::value_error("benchmark_batch: rounds must be >= 1");
        const int th = checked_threads(threads);
        const std::size_t B = static_cast<std::size_t>(X.shape(0)), d = p->dim();
        std::vector<double> G(B * d), lp(B);
        double seconds;
        long picked;
        int workers;
        {
          py::gil_scoped_release release;
          ad::BatchEvaluator ev(p, B, th, tile < 0 ? ad::BatchEvaluator::kScalar : static_cast<std::size_t>(tile));
          ev.logp_grad(X.data(), G.data(), lp.data());  // first call: sizes scratch (and picks, for tile=0)
          const auto t0 = std::chrono::steady_clock::now();
          for (long r = 0; r < rounds; ++r) ev.logp_grad(X.data(), G.data(), lp.data());
          seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          picked = ev.tile() == ad::BatchEvaluator::kScalar ? -1L : static_cast<long>(ev.tile());
          workers = ev.workers();
        }
        py::dict out;
        out["seconds"] = seconds;
        out["tile"] = picked;
        out["threads"] = workers;
        return out;
      }, py::arg("points"), py::arg("rounds"), py::arg("threads") = 1, py::arg("tile") = 8,
      "{seconds, tile, threads} of `rounds` logp+gradient evaluations at every row of points through the batch "
      "executor (tile as logp_and_grad_batch; -1 is one scalar evaluation per row, each with its own workspace; "
      "tile and threads: what it ran with, which tile=0 picks by timing).")
      .def("logp_and_grad_grid", [](std::shared_ptr<Program> p, py::handle xs) {
        DArray X = DArray::ensure(xs);
        if (!X || X.ndim() != 2 || X.shape(1) != static_cast<py::ssize_t>(p->dim()) || X.shape(0) < 1)
          throw py::value_error("logp_and_grad_grid: points must be a 2-d float array (B >= 1, " +
                                std::to_string(p->dim()) + " columns)");
        const py::ssize_t B = X.shape(0);
        DArray lp(B);
        DArray G(std::vector<py::ssize_t>{B, static_cast<py::ssize_t>(p->dim())});
        double* lpp = lp.mutable_data();
        double* gp = G.mutable_data();
        {
          py::gil_scoped_release release;
          backend::GridExecutor<backend::HostDev> ex(p, static_cast<std::size_t>(B));
          ex.logp_grad(X.data(), gp, lpp);
        }
        return py::make_tuple(lp, G);
      }, py::arg("points"),
      "(logp (B,), gradients (B, dim)) through the device executor's kernels run on the host "
      "(backend/grid_executor.hpp with HostDev): what a GPU computes, to be checked on any machine. "
      "Raises ValueError naming the op code when an op has no device kernel.")
      .def("device_unsupported_ops", [](const Program& p) {
        std::vector<int> codes;
        for (const ir::Op& op : p.ops())
          if (!backend::grid_supported(op, p)) codes.push_back(static_cast<int>(op.code));
        return codes;
      }, "Op codes of this program that the device executor cannot run (empty: it runs them all).")
      .def("_address", [](const std::shared_ptr<Program>& p) { return reinterpret_cast<std::uintptr_t>(p.get()); },
           "The Program's address, for brr_bayes._cuda.ProgramDevice (built from the same sources) to read it.")
      .def("index_sizes", [](const Program& p) {
        std::vector<std::size_t> n;
        for (std::size_t i = 0; i < p.num_indices(); ++i) n.push_back(p.index(static_cast<int>(i)).size());
        return n;
      }, "Length of each index array (int32), in the order they were added.")
      .def("batch_native_ops", [](const Program& p) { return ad::native_op_count(p); },
           "How many of the ops run through a lane kernel in a batch sweep (the rest run lane by lane).")
      .def("benchmark", [](Program& p, py::handle x, long n, long row_threads) {
        DArray a = as_1d(x, "x", static_cast<long>(p.dim()));
        if (n < 1) throw py::value_error("benchmark: n must be >= 1");
        const int threads = checked_threads(row_threads);
        std::vector<double> g(p.dim());
        double acc = 0.0;
        {
          py::gil_scoped_release release;
          ad::Workspace ws = ad::make_workspace(p, threads);
          for (long i = 0; i < n; ++i) acc += eval(p, ws, a, g.data());
        }
        return acc / static_cast<double>(n);
      }, py::arg("x"), py::arg("n"), py::arg("row_threads") = 1,
      "Runs n logp+gradient evaluations (for timing) on row_threads threads; returns the mean logp.");
  py::class_<HostGridDevice>(m, "HostGridDevice",
                             "The device executor's kernels run on the host at a fixed number of points: what a GPU "
                             "computes, as a device evaluator for bb.sample(device='cuda-emulated').")
      .def(py::init([](std::shared_ptr<Program> p, long lanes, const HostGridDevice* share) {
             if (lanes < 1) throw py::value_error("lanes must be >= 1, got " + std::to_string(lanes));
             if (share && share->ex.data()->program.get() != p.get())
               throw py::value_error("share: that HostGridDevice holds another program's data; pass one built "
                                     "on this program, or share=None");
             try {
               if (share) return std::make_unique<HostGridDevice>(*share, static_cast<std::size_t>(lanes));
               return std::make_unique<HostGridDevice>(p, static_cast<std::size_t>(lanes));
             } catch (const std::invalid_argument& e) {
               throw py::value_error(e.what());
             }
           }),
           py::arg("program"), py::arg("lanes"), py::arg("share") = nullptr,
           "share: another HostGridDevice of this program whose data (constants, index arrays, row lists) "
           "this one reads instead of a copy of its own.")
      .def_property_readonly("lanes", [](const HostGridDevice& d) { return d.ext.lanes; })
      .def_property_readonly("data_bytes", [](const HostGridDevice& d) { return d.ex.data()->bytes; },
                             "Bytes of the program's data on the device (shared by the evaluators built with share=).")
      .def_property_readonly("workspace_bytes", [](const HostGridDevice& d) { return d.ex.workspace_bytes(); },
                             "Bytes this evaluator holds for its own lanes (values, adjoints, scratch).")
      .def("shares_data_with", [](const HostGridDevice& d, const HostGridDevice& o) { return d.ex.data() == o.ex.data(); },
           "Whether this evaluator and o read one copy of the program's data.")
      .def_property("trajectories_on_device", [](const HostGridDevice& d) { return d.ext.leapfrog != nullptr; },
                    &HostGridDevice::set_trajectories,
                    "Whether a lock-step run steps its leapfrog trajectories here (True) or on its host loop, one "
                    "evaluation per step (False); both give the same draws.")
      .def("leapfrog", [](HostGridDevice& d, py::handle q, py::handle p, py::handle g, py::handle lp, py::handle minv,
                          double eps, long L) {
        return device_leapfrog(d.ex, q, p, g, lp, minv, eps, L);
      }, py::arg("q"), py::arg("p"), py::arg("g"), py::arg("lp"), py::arg("minv"), py::arg("eps"), py::arg("steps"),
      "L = steps leapfrog steps of every lane from positions q, momenta p, gradients g (lanes x dim) and log "
      "densities lp (lanes) with inverse metric minv (dim): returns (q, p, g, lp, ok, evals) at the ends, "
      "ok False where a lane stopped at a point whose density or gradient is not finite.")
      .def_property_readonly("trajectories", [](const HostGridDevice& d) { return d.ex.trajectories(); },
                             "How many trajectories this evaluator has stepped (each a whole leapfrog() call).")
      .def("logp_and_grad", [](HostGridDevice& d, py::handle xs) {
        return device_logp_and_grad(d.ex, xs);
      }, py::arg("points"), "(logp (lanes,), gradients (lanes, dim)) at each row of points.")
      .def("batch_capsule", [](HostGridDevice& d) {
        return py::capsule(static_cast<void*>(&d.ext), kExternalBatchCapsule);
      }, "The evaluator for a run (start_sampling(batch=)); valid while this object lives.");
}

}  // namespace brr::bind
