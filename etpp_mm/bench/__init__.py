"""Side-by-side training campaigns: runs as separate training processes, a
result cache, and the benchmark's summaries, reports and plots.

Used by ``tools/benchmark.py`` and ``tools/search_curriculum.py``; imports
:mod:`etpp_mm.curriculum`, :mod:`etpp_mm.analysis` and the hooks, never the
other way round.
"""
