"""The repository's benchmark harness: campaigns of training runs (each run
a separate training process in its own folder, a result cache the same
command resumes from), what the benchmark and the stage-size search make of
the results, and the timing of the measurement tools.

Modules: ``runs`` (training processes, logged scalars), ``cache``,
``campaign`` (work dir, log, run folders, ETA), ``recipe`` (what a campaign
reads from a config), ``variants``, ``summary``, ``report``, ``plot``,
``machine``, ``compare`` (the benchmark), ``knn`` (its k-NN score),
``shorten`` and ``pareto`` (the shortened-recipe control and the Pareto
front), ``zoo*`` (the model-zoo sweep of ``check_recipes.py``),
``proxy`` (the search), ``eta_check`` (the ETA against the time left),
``timing`` (interleaved rounds, medians), ``step_time`` (seconds per
training step), ``loader_bench`` (a pipeline's cost at both augmentation
orders, a loader's images/s), ``node`` (the node benchmark: step, loader
and both per stage size), ``node_advice`` (the settings it recommends)
and ``decode_bench`` (the JPEG decode's cost by stage size).
Used by ``tools/benchmark.py``,
``tools/search_curriculum.py`` and ``tools/analysis/``.

Not part of the ``etpp_mm`` distribution: the tools import it from the
checkout. It imports :mod:`etpp_mm`; nothing in :mod:`etpp_mm` imports it.
"""
