"""``make bench``: the product measured against the limits that matter (run ``python -m benchmarks``).

Six benches, each a module with one ``run(size, workdir) -> list[Row]``: DAG parse cost, the cost of
10,000 legal waits in one triggerer, WeCom calls per person case, a company of 10,000 members, WeDrive
backup throughput and memory, and the cases page with 10,000 cases. Timings are medians of repeated
runs, each compared with a baseline measured in the same run (the machine is shared); the table is
printed and written to ``.bench/results.json``.
"""
