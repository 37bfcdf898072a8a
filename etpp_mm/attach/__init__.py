"""The runner-free core: a recipe's train pipelines and the hook's options
in, a curriculum attached to the pipelines out.

Nothing here touches an MMEngine ``Runner``: it reads and edits pipelines,
datasets, loaders and models, so the analysis tools use it as the hook
does. :func:`attach_curriculum` is the entry point; the hook in
:mod:`etpp_mm.hooks` adapts it to a runner.
"""
from .attachment import AttachedCurriculum, attach_curriculum
from .options import CurriculumOptions
from .pipeline import train_pipelines
from .resolver import CurriculumResolver, ResolvedCurriculum, quiet

__all__ = [
    'AttachedCurriculum', 'attach_curriculum', 'CurriculumOptions',
    'CurriculumResolver', 'ResolvedCurriculum', 'quiet', 'train_pipelines'
]
