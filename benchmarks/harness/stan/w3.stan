// W3 BYM2 spatial Poisson (SPEC.md; Riebler et al. 2016, as in the Stan case study)
data {
  int<lower=1> N; int<lower=1> N_edges;
  array[N_edges] int<lower=1, upper=N> node1; array[N_edges] int<lower=1, upper=N> node2;
  array[N] int<lower=0> y; vector[N] log_E; vector[N] x; real<lower=0> scaling_factor;
}
parameters { real alpha; real beta; real<lower=0> sigma; real<lower=0, upper=1> rho; vector[N] theta; vector[N] phi; }
model {
  vector[N] conv = sqrt(rho / scaling_factor) * phi + sqrt(1 - rho) * theta;
  alpha ~ normal(0, 1); beta ~ normal(0, 1); sigma ~ normal(0, 1); rho ~ beta(0.5, 0.5);
  theta ~ std_normal();
  target += -0.5 * dot_self(phi[node1] - phi[node2]);
  sum(phi) ~ normal(0, 0.001 * N);
  y ~ poisson_log(log_E + alpha + beta * x + sigma * conv);
}
