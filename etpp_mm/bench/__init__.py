"""Campaigns of training runs: each run a separate training process in its
own folder, a result cache the same command resumes from, and what the
benchmark and the stage-size search make of the results.

Modules: ``runs`` (training processes, logged scalars), ``cache``,
``campaign`` (work dir, log, run folders, ETA), ``recipe`` (what a campaign
reads from a config), ``variants``, ``summary``, ``report``, ``plot``,
``machine``, ``compare`` (the benchmark), ``knn`` (its k-NN score) and
``proxy`` (the search). Used by ``tools/benchmark.py`` and
``tools/search_curriculum.py``; imports :mod:`etpp_mm.curriculum`,
:mod:`etpp_mm.analysis`, :mod:`etpp_mm.evaluation` and the hooks, never the
other way round.
"""
