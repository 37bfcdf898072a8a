"""The documentation against the code: every hook option declared in each
place that lists them, every relative link of the Markdown files
resolving, a short README, and an index that links every guide."""
import dataclasses
import glob
import inspect
import os.path as osp
import re

from conftest import ROOT

from etpp_mm.attach import CurriculumOptions
from etpp_mm.hooks import EfficientTrainHook

LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
README_MAX_BYTES = 12 * 1024


def hook_options():
    return set(inspect.signature(EfficientTrainHook).parameters)


def declared_options():
    return {option.name for option in dataclasses.fields(CurriculumOptions)}


def docstring_options():
    doc = CurriculumOptions.__doc__
    args = doc[doc.index('Args:'):doc.index('Example:')]
    found = set()
    for line in args.splitlines():
        entry = re.match(r'^ {8}(\w+(?:, \w+)*)(?: \(|:)', line)
        if entry:
            found |= set(entry.group(1).split(', '))
    return found


def guide_options():
    """The options of the full option block in docs/hook.md."""
    with open(osp.join(ROOT, 'docs', 'hook.md')) as f:
        text = f.read()
    block = re.search(
        r"custom_hooks = \[\n    dict\(type='EfficientTrainHook',\n(.*?)\n\]",
        text, re.S).group(1)
    return set(re.findall(r'^ +(\w+)=', block, re.M))


def test_every_hook_option_is_declared_everywhere():
    """The options' one declaration (CurriculumOptions), the hook's
    signature, the declaration's documented Args and the option reference
    name the same options."""
    options = declared_options()
    assert len(options) >= 20
    assert hook_options() == options
    assert docstring_options() == options
    assert guide_options() == options


def test_relative_links_resolve():
    files = [osp.join(ROOT, 'README.md'), osp.join(ROOT, 'CHANGELOG.md')]
    files += sorted(glob.glob(osp.join(ROOT, 'docs', '*.md')))
    checked, broken = 0, []
    for path in files:
        with open(path) as f:
            text = f.read()
        for target in LINK.findall(text):
            if re.match(r'[a-z]+:', target) or target.startswith('#'):
                continue  # a web address or an anchor of the same page
            checked += 1
            local = osp.join(osp.dirname(path), target.split('#')[0])
            if not osp.exists(local):
                broken.append(f'{osp.relpath(path, ROOT)}: {target}')
    assert checked > 10
    assert broken == []


def test_readme_is_a_short_front_door():
    size = osp.getsize(osp.join(ROOT, 'README.md'))
    assert size <= README_MAX_BYTES, (
        f'README.md is {size} bytes; move detail into a guide under docs/')


def test_the_index_links_every_guide():
    """docs/index.md links every Markdown file of docs/ but itself (files
    under docs/images are pictures, not guides)."""
    with open(osp.join(ROOT, 'docs', 'index.md')) as f:
        linked = {osp.normpath(target.split('#')[0])
                  for target in LINK.findall(f.read())}
    guides = {osp.basename(path)
              for path in glob.glob(osp.join(ROOT, 'docs', '*.md'))}
    guides.discard('index.md')
    assert len(guides) >= 6
    assert sorted(guides - linked) == []
