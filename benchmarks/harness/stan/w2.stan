// W2 multilevel logistic regression of survey responses (SPEC.md), one row per respondent
data {
  int<lower=1> N;
  array[N] int<lower=0, upper=1> y;
  array[N] int<lower=1, upper=50> state;
  array[N] int<lower=1, upper=6> age;
  array[N] int<lower=1, upper=4> race;
  array[N] int<lower=1, upper=5> edu;
  array[N] int<lower=1, upper=4> region;
  array[N] int<lower=1, upper=200> state_race;
  array[N] int<lower=1, upper=30> age_edu;
  vector[N] female;
  matrix[50, 3] Z;
}
parameters {
  real alpha; vector[3] beta; real b_female;
  real<lower=0> sigma_state; real<lower=0> sigma_age; real<lower=0> sigma_race; real<lower=0> sigma_edu;
  real<lower=0> sigma_region; real<lower=0> sigma_state_race; real<lower=0> sigma_age_edu;
  vector[50] z_state; vector[6] z_age; vector[4] z_race; vector[5] z_edu; vector[4] z_region;
  vector[200] z_state_race; vector[30] z_age_edu;
}
model {
  vector[50] zb = Z * beta;
  alpha ~ normal(0, 2.5); beta ~ std_normal(); b_female ~ std_normal();
  sigma_state ~ normal(0, 1); sigma_age ~ normal(0, 1); sigma_race ~ normal(0, 1); sigma_edu ~ normal(0, 1);
  sigma_region ~ normal(0, 1); sigma_state_race ~ normal(0, 1); sigma_age_edu ~ normal(0, 1);
  z_state ~ std_normal(); z_age ~ std_normal(); z_race ~ std_normal(); z_edu ~ std_normal();
  z_region ~ std_normal(); z_state_race ~ std_normal(); z_age_edu ~ std_normal();
  y ~ bernoulli_logit(alpha + zb[state] + b_female * female + sigma_state * z_state[state]
                      + sigma_age * z_age[age] + sigma_race * z_race[race] + sigma_edu * z_edu[edu]
                      + sigma_region * z_region[region] + sigma_state_race * z_state_race[state_race]
                      + sigma_age_edu * z_age_edu[age_edu]);
}
