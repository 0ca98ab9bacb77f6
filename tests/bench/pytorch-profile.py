"""Per-op profile of scripts/pytorch-dcgan-reference.py's timing run (torch.autograd.profiler), with the reference's
own arguments (docs/benchmarks.md):

OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 tests/bench/pytorch-profile.py \\
  --data CACHE.bin --image-size 64 --base-channels 256 --steps 4 --threads 2 --fresh-z
"""
import importlib.util
import sys

import torch

spec = importlib.util.spec_from_file_location('reference', 'scripts/pytorch-dcgan-reference.py')
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)


def profiled_run(a, train_step, count, bs, device, g_ch, d_ch):
    """Replaces the script's timing run: 3 warm-up steps, then a.steps profiled ones."""
    step = 0
    for _ in range(3):
        train_step(torch.randint(0, count, (bs,)), step)
        step += 1
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        for _ in range(a.steps):
            train_step(torch.randint(0, count, (bs,)), step)
            step += 1
    print(f'ms are totals over {a.steps} steps')
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=25))
    print(prof.key_averages(group_by_input_shape=True).table(sort_by='self_cpu_time_total', row_limit=30))


reference.timing_run = profiled_run
sys.argv = ['pytorch-dcgan-reference.py'] + sys.argv[1:]
reference.main()
