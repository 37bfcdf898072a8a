"""How close a run's curriculum ETA came to the time it really had left.

Reads an MMEngine text log (``train_output.log`` of a benchmark run, or
the ``*.log`` of a work dir): every training line with
``curriculum/eta_seconds`` gives a prediction at its timestamp, and the
last such line marks the end of training (the ETA leaves validation out).
"""
import datetime
import re
from dataclasses import dataclass
from typing import Iterable, List, Optional

# the console's 'MM/DD hh:mm:ss', or the work dir log's 'YYYY/MM/DD ...'
_STAMP = re.compile(r'^(?:\d{4}/)?(\d\d/\d\d \d\d:\d\d:\d\d) ')
_ETA = re.compile(r'curriculum/eta_seconds: ([\d.]+)')
_SIZE = re.compile(r'curriculum/size: (\d+)')
_EPOCH = re.compile(r'Epoch\(train\)\s+\[(\d+)\]\[\s*(\d+)/(\d+)\]')


@dataclass
class EtaPoint:
    """One logged prediction against the time that was really left."""
    epoch: int
    size: int
    predicted: float
    real: float

    @property
    def ratio(self) -> float:
        return self.predicted / self.real


def eta_points(lines: Iterable[str], min_real: float = 20.0
               ) -> List[EtaPoint]:
    """The predictions of a log with more than ``min_real`` seconds left
    (the last lines' one-second timestamps say little).

    Example:
        >>> log = ['12/01 06:00:00 - mmengine - INFO - Epoch(train) [1][5/5]'
        ...        '  curriculum/size: 12  curriculum/eta_seconds: 110.0',
        ...        '12/01 06:01:40 - mmengine - INFO - Epoch(train) [2][5/5]'
        ...        '  curriculum/size: 28  curriculum/eta_seconds: 1.0']
        >>> [(p.epoch, p.size, round(p.ratio, 2)) for p in eta_points(log)]
        [(1, 12, 1.1)]
        >>> len(eta_points(['2026/' + line for line in log]))  # work dir log
        1
    """
    rows = []
    for line in lines:
        stamp, eta = _STAMP.match(line), _ETA.search(line)
        epoch, size = _EPOCH.search(line), _SIZE.search(line)
        if stamp and eta and epoch and size:
            when = datetime.datetime.strptime(stamp.group(1),
                                              '%m/%d %H:%M:%S')
            rows.append((when, int(epoch.group(1)), int(size.group(1)),
                         float(eta.group(1))))
    if not rows:
        return []
    end = rows[-1][0]
    points = [
        EtaPoint(epoch, size, eta, (end - when).total_seconds())
        for when, epoch, size, eta in rows
    ]
    return [p for p in points if p.real > min_real]


def first_with_all_sizes(points: List[EtaPoint]) -> Optional[int]:
    """Index of the first point logged once every size of the run has been
    trained (the ETA has then measured each size)."""
    sizes = {p.size for p in points}
    seen = set()
    for index, point in enumerate(points):
        seen.add(point.size)
        if seen == sizes:
            return index
    return None
