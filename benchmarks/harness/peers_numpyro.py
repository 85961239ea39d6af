"""The reference workloads written in NumPyro (same math and data as benchmarks/workloads/models.py)."""
from __future__ import annotations

import numpy as np


def models():
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    def w1(d):
        def model():
            mu = numpyro.sample("mu", dist.Normal(0, 5))
            tau = numpyro.sample("tau", dist.HalfCauchy(5))
            z = numpyro.sample("theta_raw", dist.Normal(0, 1).expand([8]))
            numpyro.sample("y", dist.Normal(mu + tau * z, jnp.asarray(d["sigma"])), obs=jnp.asarray(d["y"]))
        return model

    def w2(d):
        from workloads.data import W2_BLOCKS
        idx = {name: jnp.asarray(d[name]) for name, _, _ in W2_BLOCKS}
        Z, female, y = jnp.asarray(d["Z"]), jnp.asarray(d["female"], dtype=jnp.float64), jnp.asarray(d["y"])

        def model():
            alpha = numpyro.sample("alpha", dist.Normal(0, 2.5))
            beta = numpyro.sample("beta", dist.Normal(0, 1).expand([3]))
            bf = numpyro.sample("b_female", dist.Normal(0, 1))
            eta = alpha + (Z @ beta)[idx["state"]] + bf * female
            for name, L, _ in W2_BLOCKS:
                s = numpyro.sample(f"sigma_{name}", dist.HalfNormal(1))
                z = numpyro.sample(f"z_{name}", dist.Normal(0, 1).expand([L]))
                eta = eta + (s * z)[idx[name]]
            numpyro.sample("y", dist.Bernoulli(logits=eta), obs=y)
        return model

    def w2_natural(d):
        """W2 as a NumPyro user writes it: a row-level predictor matrix and sigma * z[idx] per block."""
        from workloads.data import W2_BLOCKS
        idx = {name: jnp.asarray(d[name]) for name, _, _ in W2_BLOCKS}
        Zs = jnp.asarray(np.asarray(d["Z"])[np.asarray(d["state"])])
        female, y = jnp.asarray(d["female"], dtype=jnp.float64), jnp.asarray(d["y"])

        def model():
            alpha = numpyro.sample("alpha", dist.Normal(0, 2.5))
            beta = numpyro.sample("beta", dist.Normal(0, 1).expand([3]))
            bf = numpyro.sample("b_female", dist.Normal(0, 1))
            eta = alpha + Zs @ beta + bf * female
            for name, L, _ in W2_BLOCKS:
                s = numpyro.sample(f"sigma_{name}", dist.HalfNormal(1))
                z = numpyro.sample(f"z_{name}", dist.Normal(0, 1).expand([L]))
                eta = eta + s * z[idx[name]]
            numpyro.sample("y", dist.Bernoulli(logits=eta), obs=y)
        return model

    def w3(d):
        n = int(d["N"])
        n1, n2 = jnp.asarray(d["node1"]), jnp.asarray(d["node2"])
        sf = float(d["scaling_factor"])

        def model():
            alpha = numpyro.sample("alpha", dist.Normal(0, 1))
            beta = numpyro.sample("beta", dist.Normal(0, 1))
            sigma = numpyro.sample("sigma", dist.HalfNormal(1))
            rho = numpyro.sample("rho", dist.Beta(0.5, 0.5))
            theta = numpyro.sample("theta", dist.Normal(0, 1).expand([n]))
            phi = numpyro.sample("phi", dist.ImproperUniform(dist.constraints.real, (), (n,)))
            numpyro.factor("icar", -0.5 * jnp.sum((phi[n1] - phi[n2]) ** 2))
            numpyro.factor("soft", dist.Normal(0, 0.001 * n).log_prob(jnp.sum(phi)))
            conv = jnp.sqrt(rho / sf) * phi + jnp.sqrt(1 - rho) * theta
            numpyro.sample("y", dist.Poisson(rate=jnp.exp(jnp.asarray(d["log_E"]) + alpha + beta * jnp.asarray(d["x"])
                                                          + sigma * conv)), obs=jnp.asarray(d["y"]))
        return model

    def w4(d):
        T, S, H = int(d["T"]), int(d["S"]), int(d["H"])
        t, s, h = jnp.asarray(d["t"]), jnp.asarray(d["s"]), jnp.asarray(d["h"])

        def model():
            sn = numpyro.sample("sigma_nat", dist.HalfNormal(0.1))
            ss = numpyro.sample("sigma_state", dist.HalfNormal(0.05))
            so = numpyro.sample("sigma_off", dist.HalfNormal(0.5))
            sh = numpyro.sample("sigma_house", dist.HalfNormal(0.1))
            zn = numpyro.sample("z_nat", dist.Normal(0, 1).expand([T]))
            zs = numpyro.sample("z_state", dist.Normal(0, 1).expand([S, T]))
            zo = numpyro.sample("z_off", dist.Normal(0, 1).expand([S]))
            zh = numpyro.sample("z_house", dist.Normal(0, 1).expand([H]))
            nat = jnp.cumsum(sn * zn)
            srw = jnp.cumsum(ss * zs, axis=1)
            eta = nat[t] + (so * zo)[s] + srw[s, t] + (sh * zh)[h]
            numpyro.sample("y", dist.Binomial(jnp.asarray(d["n"]), logits=eta), obs=jnp.asarray(d["y"]))
        return model

    def w5(d):
        c, J = jnp.asarray(d["county"]), int(d["J"])
        floor, y = jnp.asarray(d["floor_measure"]), jnp.asarray(d["log_radon"])

        def model():
            mu_a = numpyro.sample("mu_alpha", dist.Normal(0, 10))
            mu_b = numpyro.sample("mu_beta", dist.Normal(0, 10))
            s_y = numpyro.sample("sigma_y", dist.HalfNormal(1))
            s_a = numpyro.sample("sigma_alpha", dist.HalfNormal(1))
            s_b = numpyro.sample("sigma_beta", dist.HalfNormal(1))
            a = mu_a + s_a * numpyro.sample("alpha_raw", dist.Normal(0, 1).expand([J]))
            b = mu_b + s_b * numpyro.sample("beta_raw", dist.Normal(0, 1).expand([J]))
            numpyro.sample("log_radon", dist.Normal(a[c] + floor * b[c], s_y), obs=y)
        return model

    return {"W1": w1, "W2": w2, "W2-natural": w2_natural, "W3": w3, "W4": w4, "W5": w5}


def w2_natural_rate(d, seconds=2.0):
    """Jitted value-and-grad calls per second of NumPyro's naturally written W2 (float64)."""
    import time
    import jax
    jax.config.update("jax_enable_x64", True)
    f, dim = logp_grad_fn(models()["W2-natural"](d))
    x = np.zeros(dim)
    f(x)[1].block_until_ready()
    best = 0.0
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 3:
            f(x)[1].block_until_ready()
            n += 1
        best = max(best, n / (time.perf_counter() - t0))
    return best


def logp_grad_fn(model):
    """A jitted value_and_grad of the potential energy on the unconstrained space, and its dimension."""
    import jax
    from numpyro.infer.util import initialize_model
    info = initialize_model(jax.random.PRNGKey(0), model)
    flat, unravel = jax.flatten_util.ravel_pytree(info.param_info.z)
    pe = info.potential_fn
    f = jax.jit(jax.value_and_grad(lambda x: -pe(unravel(x))))
    return f, flat.size


def sample(model, seed, draws=1000, tune=1000, chains=4):
    """(seconds, min bulk-ESS, max R-hat, divergences, posterior dict) with NUTS defaults."""
    import time
    import jax
    from numpyro.infer import MCMC, NUTS
    mcmc = MCMC(NUTS(model), num_warmup=tune, num_samples=draws, num_chains=chains, chain_method="parallel",
                progress_bar=False)
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), extra_fields=("diverging",))
    jax.block_until_ready(mcmc.get_samples())
    secs = time.perf_counter() - t0
    post = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    div = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    return secs, post, div
