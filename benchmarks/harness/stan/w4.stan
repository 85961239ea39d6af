// W4 dynamic poll aggregation with random walks (SPEC.md)
data {
  int<lower=1> T; int<lower=1> S; int<lower=1> H; int<lower=1> P;
  array[P] int<lower=1, upper=T> t; array[P] int<lower=1, upper=S> s; array[P] int<lower=1, upper=H> h;
  array[P] int<lower=1> n; array[P] int<lower=0> y;
}
parameters {
  real<lower=0> sigma_nat; real<lower=0> sigma_state; real<lower=0> sigma_off; real<lower=0> sigma_house;
  vector[T] z_nat; matrix[S, T] z_state; vector[S] z_off; vector[H] z_house;
}
model {
  vector[T] national = cumulative_sum(sigma_nat * z_nat);
  matrix[S, T] state_rw;
  vector[P] eta;
  for (k in 1:S) state_rw[k] = cumulative_sum(sigma_state * z_state[k]);
  sigma_nat ~ normal(0, 0.1); sigma_state ~ normal(0, 0.05); sigma_off ~ normal(0, 0.5); sigma_house ~ normal(0, 0.1);
  z_nat ~ std_normal(); to_vector(z_state) ~ std_normal(); z_off ~ std_normal(); z_house ~ std_normal();
  for (p in 1:P) eta[p] = national[t[p]] + sigma_off * z_off[s[p]] + state_rw[s[p], t[p]] + sigma_house * z_house[h[p]];
  y ~ binomial_logit(n, eta);
}
