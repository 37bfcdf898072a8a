"""The result cache of a campaign: finished runs in a JSON file, keyed by
everything that changes their result, so that the same command resumes.
"""
import hashlib
import json
import os
from typing import Any, Dict, Mapping, Optional, Sequence


def cache_key(schedule: Sequence[int], settings: Mapping[str, Any]) -> str:
    """A short stable key of one proxy run: the schedule and every proxy
    setting that changes its result (recipe, images, budget, seed...).

    Example:
        >>> a = cache_key((12, 28), {'seed': 0, 'budget': 4})
        >>> a == cache_key([12, 28], {'budget': 4, 'seed': 0}), len(a)
        (True, 16)
        >>> a == cache_key((12, 28), {'seed': 1, 'budget': 4})
        False
    """
    text = json.dumps([list(schedule), dict(settings)],
                      sort_keys=True,
                      separators=(',', ':'))
    return hashlib.sha1(text.encode('utf-8')).hexdigest()[:16]


class ResultCache:
    """Proxy results kept in a JSON file, written after every run so an
    interrupted search resumes where it stopped.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), 'cache.json')
        >>> ResultCache(path).put('k', {'score': 85.0})
        >>> ResultCache(path).get('k')
        {'score': 85.0}
    """

    def __init__(self, path: str):
        self.path = path
        self.entries: Dict[str, Dict[str, Any]] = {}
        if os.path.isfile(path):
            try:
                with open(path) as f:
                    loaded = json.load(f)
            except ValueError as err:
                raise ValueError(
                    f'the result cache {path} is not valid JSON ({err}): '
                    'delete it to rerun every proxy') from err
            self.entries = dict(loaded.get('runs', {}))

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        return self.entries.get(key)

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        self.entries[key] = dict(entry)
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        # Write-then-rename: a search killed mid-write keeps the old file.
        partial = self.path + '.partial'
        with open(partial, 'w') as f:
            json.dump(dict(runs=self.entries), f, indent=1, sort_keys=True)
        os.replace(partial, self.path)
