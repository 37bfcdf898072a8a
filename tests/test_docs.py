"""The documentation against the code: every hook option declared in each
place that lists them, and every relative link of the Markdown files
resolving."""
import glob
import inspect
import os.path as osp
import re

from conftest import ROOT

from etpp_mm.hooks import EfficientTrainHook
from etpp_mm.hooks.arguments import _TYPES

LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')


def hook_options():
    return set(inspect.signature(EfficientTrainHook).parameters)


def docstring_options():
    doc = EfficientTrainHook.__doc__
    args = doc[doc.index('Args:'):doc.index('Example:')]
    found = set()
    for line in args.splitlines():
        entry = re.match(r'^ {8}(\w+(?:, \w+)*)(?: \(|:)', line)
        if entry:
            found |= set(entry.group(1).split(', '))
    return found


def readme_options():
    with open(osp.join(ROOT, 'README.md')) as f:
        text = f.read()
    block = re.search(
        r"custom_hooks = \[\n    dict\(type='EfficientTrainHook',\n(.*?)\n\]",
        text, re.S).group(1)
    return set(re.findall(r'^ +(\w+)=', block, re.M))


def test_every_hook_option_is_declared_everywhere():
    """The signature, the docstring's Args, the type checks and the
    README's option block name the same options."""
    options = hook_options()
    assert len(options) >= 20
    assert docstring_options() == options
    assert set(_TYPES) == options
    assert readme_options() == options


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
