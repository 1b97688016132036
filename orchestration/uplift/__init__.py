"""Uplift and profit (domain logic, no Dagster): treatment keys over the strategy library, X-learner
uplift models learned from the randomized arms, their held-out Qini / AUUC, the model registry,
decisions by expected incremental profit under the channels' budgets, money counted on margin with
benefit costs, and the predicted 12-month value."""
