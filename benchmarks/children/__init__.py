"""Scripts the benches run in fresh processes (``python -m benchmarks.children.<name> <args>``).

A fresh process per measurement keeps import caches, memory peaks and CPU time of one measurement
out of the next. Each script writes its findings as JSON to the path it is given.
"""
