"""Speed and memory benchmarks: train steps of conditioned U-Nets, the input pipeline,
the synthetic data generator (`inside-keras bench`, `benchmarks/run.py`).

Modules, one job each: `settings` (workloads and step counts), `memory` (peak resident
memory of a step), `timing` (interleaved, round-robin timing), `train_steps` (the
models and their step times), `throughput` (input pipeline and `generate`), `report`
(table and JSON), `runner` (one subprocess per backend).
"""
