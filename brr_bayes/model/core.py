"""Model: a context that collects named variables, dims/coords, and compiles to C++ on first use."""
from __future__ import annotations

import threading

import numpy as np

from .expr import Const, Expr, as_expr, host_array
from .transforms import Identity, by_name


def shape_argument(shape, where):
    """A shape= argument as a tuple of positive ints, or a ValueError naming the variable and the fix."""
    sizes = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    ok = all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in sizes)
    if not ok:
        raise ValueError(f"{where}: shape must hold whole sizes >= 1, got shape={shape!r}; pass e.g. shape=5 or "
                         "shape=(50, 100) (a variable with no elements has nothing to sample: leave it out)")
    return tuple(int(s) for s in sizes)


def _parameters_fit(dist, target, where, what):
    """Raise unless the distribution's parameters broadcast to ``target`` without changing it: an (n, 1)
    column against n means, or 7 observations against 5 means, would otherwise broadcast to something
    else or fail deep in numpy."""
    target = tuple(int(s) for s in target)
    implied = tuple(dist.batch_shape())
    try:
        fits = np.broadcast_shapes(implied, target) == target
    except ValueError:
        fits = False
    if not fits:
        given = ", ".join(f"{n} {tuple(p.shape)}" for n, p in dist.params.items() if p.shape) or "all scalars"
        raise ValueError(f"{where}: {what} has shape {target} but the parameters ({given}) have shape {implied}, "
                         f"which does not broadcast to it; make them agree: reshape the data (y.ravel() for an "
                         "(n, 1) column), or index the parameters to one value per observation (mu[idx])")

_CONTEXT = threading.local()


class FreeRV(Expr):
    """A sampled parameter; as an expression it is the constrained value."""

    def __init__(self, name, dist, shape, dims, transform, initval):
        super().__init__(shape)
        self.name, self.dist, self.dims, self.transform, self.initval = name, dist, dims, transform, initval

    def __repr__(self):
        return f"FreeRV({self.name}, {type(self.dist).__name__}, shape={self.shape})"


class ObservedRV(Const):
    """Observed data with a likelihood; as an expression it is the data."""

    def __init__(self, name, dist, value, dims):
        super().__init__(value)
        self.name, self.dist, self.dims = name, dist, dims


class Deterministic:
    """A named function of parameters, stored with the draws.

    Example:
        >>> import brr_bayes as bb
        >>> with bb.Model():
        ...     mu = bb.Normal("mu", 0, 1)
        ...     mu2 = bb.Deterministic("mu2", 2 * mu)
    """

    def __new__(cls, name, expr, dims=None):
        model = Model.get_context(f"Deterministic('{name}')")
        return model.add_deterministic(name, expr, dims)


class Potential:
    """Adds an arbitrary expression (summed) to the log density.

    Example:
        >>> import brr_bayes as bb
        >>> with bb.Model():
        ...     x = bb.Flat("x")
        ...     _ = bb.Potential("soft", -0.5 * x ** 2)
    """

    def __new__(cls, name, expr):
        model = Model.get_context(f"Potential('{name}')")
        return model.add_potential(name, expr)


class Model:
    """A probabilistic model.

    Example:
        >>> import numpy as np, brr_bayes as bb
        >>> y = np.array([28., 8, -3, 7, -1, 1, 18, 12]); s = np.array([15., 10, 16, 11, 9, 11, 10, 18])
        >>> with bb.Model(coords={"school": list("ABCDEFGH")}) as model:
        ...     mu = bb.Normal("mu", 0, 5)
        ...     tau = bb.HalfCauchy("tau", 5)
        ...     z = bb.Normal("z", 0, 1, dims="school")
        ...     theta = bb.Deterministic("theta", mu + tau * z, dims="school")
        ...     _ = bb.Normal("y", theta, s, observed=y, dims="school")
        >>> model.dim
        10
    """

    # The compiler is handed in by brr_bayes.compile when it loads (importing brr_bayes loads it), so that a
    # model describes and never imports the layer that lowers it (use_compiler).
    _compiler = None

    @classmethod
    def use_compiler(cls, compiler):
        """Set what compiles models: ``compiler.compile(model, options)`` (the compiled model),
        ``compiler.options_type`` (bb.CompileOptions) and ``compiler.explain(model)``. brr_bayes.compile
        calls this when it is imported."""
        cls._compiler = compiler

    def _need_compiler(self):
        if Model._compiler is None:
            raise RuntimeError("no compiler is loaded: import brr_bayes (it loads brr_bayes.compile) before "
                               "evaluating or sampling a model")
        return Model._compiler

    def __init__(self, coords=None, name="", compile_options=None):
        self.name = name
        self._compile_options = compile_options
        self.coords = {}
        self.vars = {}          # name -> FreeRV | ObservedRV | Deterministic expr | potential expr
        self.free_rvs = []
        self.observed_rvs = []
        self._data_checked = {}   # data nodes already scanned for NaN (see Distribution.check_data)
        self.deterministics = []  # (name, expr, dims)
        self.potentials = []      # (name, expr)
        self.densities = []       # (name, object with lower(compiler)): fused structured-prior terms
        self.dims = {}           # name -> dims tuple
        self._compiled = None
        for k, v in (coords or {}).items():
            self.add_coord(k, v)

    # context -------------------------------------------------------------------------------
    def __enter__(self):
        stack = getattr(_CONTEXT, "stack", None)
        if stack is None:
            stack = _CONTEXT.stack = []
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _CONTEXT.stack.pop()

    @staticmethod
    def get_context(what="this") -> "Model":
        stack = getattr(_CONTEXT, "stack", None)
        if not stack:
            raise TypeError(f"{what} must be created inside a model context: `with bb.Model() as model: ...`")
        return stack[-1]

    # coords and dims -----------------------------------------------------------------------
    def add_coord(self, name, values):
        values = np.asarray(values)
        if values.ndim != 1:
            raise ValueError(f"coords['{name}'] must be 1-dimensional, got shape {values.shape}")
        if len(np.unique(values)) != len(values):
            raise ValueError(f"coords['{name}'] has duplicate labels; labels along a dim must be unique")
        self.coords[name] = values
        self._invalidate()

    def _dims_shape(self, dims, where):
        if dims is None:
            return None, None
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        missing = [d for d in dims if d not in self.coords]
        if missing:
            raise ValueError(f"{where}: dims {missing} have no coords; pass coords={{'{missing[0]}': labels}} to "
                             f"bb.Model or call model.add_coord")
        return dims, tuple(len(self.coords[d]) for d in dims)

    def _check_name(self, name):
        if not isinstance(name, str) or not name:
            raise TypeError(f"variable names must be non-empty strings, got {name!r}")
        if name in self.vars:
            raise ValueError(f"a variable named '{name}' already exists in this model; choose another name")

    # registration --------------------------------------------------------------------------
    def register_rv(self, name, dist, dims=None, shape=None, observed=None, transform="default", initval=None):
        self._check_name(name)
        where = f"{type(dist).__name__} '{name}'"
        dims, dims_shape = self._dims_shape(dims, where)
        if shape is not None:
            shape = shape_argument(shape, where)
            if dims_shape is not None and shape != dims_shape:
                raise ValueError(f"{where}: shape {shape} does not match dims {dims} of shape {dims_shape}")
        shape = shape if shape is not None else dims_shape
        dist.check_data(where, self._data_checked)
        self._invalidate()
        if observed is not None:
            value = self._observed_array(observed, where)
            if shape is not None and value.shape != shape:
                raise ValueError(f"{where}: observed data has shape {value.shape} but dims/shape say {shape}")
            _parameters_fit(dist, value.shape, where, "observed data")
            dist.check_value(value, where)
            rv = ObservedRV(name, dist, value, dims)
            self.observed_rvs.append(rv)
        else:
            if dist.discrete:
                raise TypeError(f"{where}: discrete variables cannot be sampled by NUTS; pass observed=data, or "
                                "marginalise the discrete parameter out")
            if shape is None:
                shape = tuple(dist.batch_shape())
            else:
                _parameters_fit(dist, shape, where, "the variable (shape=/dims=)")
            dist.check_shape(shape, where)
            tr = dist.default_transform() if transform == "default" else transform
            if tr is None:
                tr = Identity()
            elif isinstance(tr, str):
                tr = by_name(tr, where)
            rv = FreeRV(name, dist, shape, dims, tr, initval)
            if initval is not None:
                iv = np.broadcast_to(np.asarray(initval, dtype=np.float64), shape)
                tr.check(iv, f"{where}: initval")
            self.free_rvs.append(rv)
        self.vars[name] = rv
        self.dims[name] = dims
        return rv

    @staticmethod
    def _observed_array(observed, where):
        if isinstance(observed, Expr):
            raise TypeError(f"{where}: observed must be data (a numpy array), not a model expression")
        try:
            import pandas as pd
            if isinstance(observed, (pd.Series, pd.DataFrame)):
                observed = observed.to_numpy()
        except ImportError:  # pragma: no cover
            pass
        arr = np.asarray(host_array(observed))
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError(f"{where}: observed data must be numeric, got dtype {arr.dtype}")
        if arr.size == 0:
            raise ValueError(f"{where}: observed data is empty (shape {arr.shape}); pass at least one observation, or "
                             "leave this likelihood out when there is no data")
        return arr.astype(np.float64)

    def add_deterministic(self, name, expr, dims=None):
        self._check_name(name)
        expr = as_expr(expr)
        dims, dims_shape = self._dims_shape(dims, f"Deterministic '{name}'")
        if dims_shape is not None and dims_shape != expr.shape:
            raise ValueError(f"Deterministic '{name}': expression has shape {expr.shape} but dims {dims} have shape "
                             f"{dims_shape}")
        self.deterministics.append((name, expr, dims))
        self.vars[name] = expr
        self.dims[name] = dims
        self._invalidate()
        return expr

    def add_potential(self, name, expr):
        self._check_name(name)
        expr = as_expr(expr)
        self.potentials.append((name, expr))
        self.vars[name] = expr
        self._invalidate()
        return expr

    def add_density(self, name, term):
        """Register a fused log-density term (used by structured priors such as ICAR)."""
        self._check_name(name)
        self.densities.append((name, term))
        self.vars[name] = term
        self._invalidate()
        return term

    def __getitem__(self, name):
        return self.vars[name]

    # compiled interface --------------------------------------------------------------------
    def _invalidate(self):
        self._compiled = None

    def __getstate__(self):
        # The compiled program holds C++ evaluators and their lock: a pickle carries the model and its
        # data, and the program is compiled again on first use (the same program: the compiler is
        # deterministic), so models go to joblib, multiprocessing and Dask workers, and into caches.
        state = dict(self.__dict__)
        state["_compiled"] = None
        state["_data_checked"] = {}   # keyed by id(), which means nothing in another process
        return state

    @property
    def compile_options(self):
        """The compiler's switches (bb.CompileOptions); setting them recompiles the model."""
        return self._compile_options or self._need_compiler().options_type()

    @compile_options.setter
    def compile_options(self, options):
        kind = self._need_compiler().options_type
        if not isinstance(options, kind):
            raise TypeError(f"compile_options must be a bb.{kind.__name__}, got {type(options).__name__}")
        self._compile_options = options
        self._invalidate()

    @property
    def compiled(self):
        if self._compiled is None:
            self._compiled = self._need_compiler().compile(self, self.compile_options)
        return self._compiled

    def explain(self):
        """What the compiler made of this model: every op of the program with its size, the rewrites that
        made written-out forms fast, the likelihood rows merged into cells, and every fusion or
        compression that was declined, with why and how to rewrite. ``print(model.explain())``.

        Example:
            >>> import numpy as np, brr_bayes as bb
            >>> g = np.repeat(np.arange(5), 40)
            >>> with bb.Model() as m:
            ...     s = bb.HalfNormal("s", 1)
            ...     z = bb.Normal("z", 0, 1, shape=5)
            ...     _ = bb.Bernoulli("y", logit_p=s * z[g], observed=g % 2)
            >>> "glm" in str(m.explain())
            True
        """
        return self._need_compiler().explain(self)

    @property
    def dim(self) -> int:
        """Length of the flat unconstrained parameter vector."""
        return self.compiled.dim

    @property
    def param_names(self):
        """Names of the sampled (free) variables, in the order of the flat vector."""
        return [rv.name for rv in self.free_rvs]

    def logp(self, x) -> float:
        """Log density (with log-Jacobians) at the unconstrained point x."""
        return self.compiled.logp(x)

    def logp_and_grad(self, x):
        """(log density, gradient) at the unconstrained point x (float64 vector of length dim)."""
        return self.compiled.logp_and_grad(x)

    def logp_and_grad_batch(self, points, threads: int = 1):
        """(log densities (B,), gradients (B, dim)) at each row of points (B, dim), in one call.

        All rows go through the batch executor together: each op reads its data and indices once for
        all rows. Row b's values equal ``logp_and_grad(points[b])`` bit for bit, whatever B and threads.
        The first call with a given B and threads times the ways to run the rows and keeps the fastest
        (and its buffers) for the calls after it.

        Example:
            >>> import numpy as np, brr_bayes as bb
            >>> with bb.Model() as m:
            ...     mu = bb.Normal("mu", 0, 1)
            >>> lp, g = m.logp_and_grad_batch(np.array([[0.0], [1.0]]))
            >>> bool(lp[1] == m.logp(np.array([1.0])))
            True
        """
        return self.compiled.logp_and_grad_batch(points, threads)

    def unconstrain(self, values: dict) -> np.ndarray:
        """Flat unconstrained vector from {name: constrained value} for every free variable."""
        return self.compiled.unconstrain(values)

    def constrain(self, x) -> dict:
        """{name: value} of free variables and deterministics at the unconstrained point x."""
        return self.compiled.constrain(x)
