"""Synthetic results whose tokens/s are the performance model's own prediction on the files'
calibration, with the ladder-allreduce files beside them: the tests of the calibrations, `--check`
and the predicted columns start from them."""
from analysis.calibrate import machine_from_results
from analysis.perfmodel import predict
from analysis.tests.synth import write_allreduce, write_result
from analysis.workload import Shape, Workload

CONFIG = {"num_hidden_layers": 2, "hidden_size": 256, "num_attention_heads": 4, "num_key_value_heads": 4,
          "intermediate_size": 512, "vocab_size": 1000}
ROOFLINE = {"triad": 1e10, "gemm": 5e10, "table": [[1, 768, 256, 1, 3e-5], [1, 1024, 256, 1, 4e-5]]}
VARIANTS = ("standard", "ladder", "upper-bound")


def calibrated_files(folder, latencies=(0.0,), factors=None, tp=2, batch=1):
    """Results at each emulated latency (0 = native) whose tokens/s are the model's prediction on the
    files' own calibration times factors[variant]; the all-reduce files beside them."""
    write_allreduce(folder / "ar0.h5", sizes=(1024, 65536, 1 << 20), time_s=(5e-5, 8e-5, 3e-4),
                    overlap_pct=(20.0, 40.0, 60.0))
    write_allreduce(folder / "ar500.h5", sizes=(1024, 65536), time_s=(5e-5 + 5e-4 + 6e-5, 8e-5 + 5e-4 + 6e-5),
                    link_latency_us=500)
    factors = factors or {}
    for lat in latencies:
        path = folder / f"run{lat:g}.h5"
        placeholder = {(v, batch): 1.0 for v in VARIANTS}
        write_result(path, placeholder, model="toy", tp=tp, reps=3, prompt_len=16, gen_len=8, device="cpu",
                     dtype="fp32", model_config=CONFIG, roofline=ROOFLINE, link_latency_us=lat or None)
        machine = machine_from_results(path, [folder / "ar0.h5", folder / "ar500.h5"])
        w = Workload(Shape.from_config(CONFIG, "toy"), tp=tp, batch=batch, prompt_len=16, gen_len=8,
                     link_latency_us=lat)
        truth = {p.variant: p.tokens_per_s for p in predict(w, machine, VARIANTS)}
        write_result(path, {(v, batch): truth[v] * factors.get(v, 1.0) for v in VARIANTS}, model="toy", tp=tp,
                     reps=3, spread=0.0, prompt_len=16, gen_len=8, device="cpu", dtype="fp32", model_config=CONFIG,
                     roofline=ROOFLINE, link_latency_us=lat or None)
    return folder
