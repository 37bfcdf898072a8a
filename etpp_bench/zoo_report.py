"""The model-zoo sweep's Markdown report: how it ran, counts per status,
the failures grouped by cause and the table of every config."""
from typing import Any, Dict, List, Mapping, Sequence

from etpp_bench.zoo import GROUP_NAMES, failures_by_cause, status_counts


def cell(text: Any) -> str:
    """``text`` fit for a Markdown table cell: pipes escaped, one line.

    Example:
        >>> cell('a | b\\nc')
        'a \\\\| b c'
    """
    return ' '.join(str(text).split()).replace('|', '\\|')


def results_table(results: Sequence[Mapping[str, Any]]) -> List[str]:
    """The per-config table: config, family, status, message, seconds.

    Example:
        >>> print('\\n'.join(results_table([dict(config='resnet/r18.py',
        ...     family='resnet', status='trains', message='3 stages',
        ...     seconds=12.34)])))
        | config | family | status | message | seconds |
        |---|---|---|---|---:|
        | `resnet/r18.py` | resnet | trains | 3 stages | 12.3 |
    """
    lines = [
        '| config | family | status | message | seconds |',
        '|---|---|---|---|---:|',
    ]
    for r in results:
        lines.append(f"| `{r['config']}` | {r['family']} | {r['status']} | "
                     f"{cell(r['message'])} | {r['seconds']:.1f} |")
    return lines


def format_report(header: Mapping[str, Any],
                  results: Sequence[Dict[str, Any]],
                  not_trained: Sequence[Mapping[str, str]],
                  not_run: Sequence[str] = ()) -> str:
    """The whole report.

    Args:
        header: ``title``, ``date``, ``versions``, ``machine``,
            ``command``, ``settings``, ``rule`` (each one line of text) and
            ``duration`` (text).
        results: the sweep's results (:func:`etpp_bench.zoo.sweep_one`).
        not_trained: ``{'config', 'why'}`` of the configs the selection
            rule left out.
        not_run: configs selected but not run (e.g. time ran out).

    Example:
        >>> text = format_report(dict(title='Sweep', date='today'),
        ...     [dict(config='a/b.py', family='a', group=0, status='fails',
        ...           message='E: x', seconds=3.0)], [])
        >>> print(text.split('## Failures')[1].splitlines()[2])
        - **fails**, 1 config: `E: x`: `a/b.py`
    """
    lines = [f"# {header.get('title', 'Model-zoo sweep')}", '']
    for key in ('date', 'versions', 'machine', 'command', 'settings', 'rule',
                'duration'):
        if header.get(key):
            lines.append(f'- {key}: {header[key]}')
    lines += ['', '## Counts', '', '| status | configs |', '|---|---:|']
    for status, count in status_counts(results).items():
        lines.append(f'| {status} | {count} |')
    lines.append(f'| all | {len(results)} |')
    lines += ['', '## Failures by cause', '']
    groups = failures_by_cause(results)
    if not groups:
        lines.append('None.')
    for group in groups:
        count = len(group['configs'])
        configs = ', '.join(f'`{c}`' for c in group['configs'])
        origins = ', '.join(f'`{o}`' for o in group['origins'])
        lines.append(f"- **{group['status']}**, {count} "
                     f"config{'s' if count > 1 else ''}: "
                     f"`{cell(group['message'])}`"
                     f"{' (raised at ' + origins + ')' if origins else ''}"
                     f': {configs}')
    lines += ['', '## Per config', '']
    for index, name in enumerate(GROUP_NAMES):
        chosen = [r for r in results if r.get('group', 0) == index]
        if chosen:
            lines += [f'### {name}', ''] + results_table(chosen) + ['']
    if not_run:
        lines += ['## Selected, not run', '',
                  ', '.join(f'`{c}`' for c in not_run), '']
    if not_trained:
        lines += ['## Not trained by the rule', '', '| config | why |',
                  '|---|---|']
        lines += [f"| `{e['config']}` | {cell(e['why'])} |"
                  for e in not_trained]
        lines.append('')
    return '\n'.join(lines).rstrip() + '\n'
