"""The replay FIFO: samples of collated batches in storage it owns.

A collated batch arrives from a DataLoader worker as a few tensors in
shared memory; keeping them would keep one shared-memory handle per batch
(per sample for uncollated samples) open, which exhausts the file
descriptors of a long run. The FIFO therefore copies every batch into ring
storage allocated once per batch layout: one ``(capacity, ...)`` tensor per
tensor field (floating-point fields in half precision) and one list of
objects per per-sample field (``DataSample``...). A replayed batch is
assembled by indexing that storage with one set of slots for all fields,
so an image always comes back with its own labels. A mixed batch (replay
mode ``'mix'``) is a slice of a loaded batch, as loaded, followed field by
field by samples assembled the same way.

How a batch is read (MMPretrain's, plain ``torch`` ones, nested dicts):

* a tensor whose first dimension is the batch size: one row per sample;
* a list of non-tensors of the batch size (``data_samples``): one item per
  sample;
* a list of tensors: per-sample tensors from ``pseudo_collate``, or one
  batch tensor per view from a stacking collate (``default_collate`` of a
  ``MultiView`` pipeline). The collate function decides where its name
  says which (``stacked``); otherwise a list whose length is the batch size
  is read as per-sample.
"""
import functools
from typing import Any, List, Optional

import torch

STACKING_COLLATES = ('default_collate', )
PER_SAMPLE_COLLATES = ('pseudo_collate', )


def stacks_tensors(collate_fn: Any) -> Optional[bool]:
    """Whether ``collate_fn`` stacks per-sample tensors (True), keeps them
    in lists (False), or is unknown (None).

    Example:
        >>> from mmengine.dataset import default_collate, pseudo_collate
        >>> stacks_tensors(default_collate), stacks_tensors(pseudo_collate)
        (True, False)
    """
    while isinstance(collate_fn, functools.partial):
        collate_fn = collate_fn.func
    name = getattr(collate_fn, '__name__', '')
    if name in STACKING_COLLATES:
        return True
    if name in PER_SAMPLE_COLLATES:
        return False
    return None


def _is_data_element(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ('clone', 'items', 'set_data'))


def owned(obj: Any) -> Any:
    """``obj`` with every tensor in shared memory copied to private memory,
    so keeping it holds no shared-memory handle; data elements are cloned
    so that fields set on the returned copy by the model (Mixup's
    ``gt_score``) do not reach ``obj``."""
    if isinstance(obj, torch.Tensor):
        return obj.clone() if obj.is_shared() else obj
    if isinstance(obj, dict):
        return type(obj)((k, owned(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(owned(v) for v in obj)
    if _is_data_element(obj):
        copy = obj.clone()
        copy.set_data({k: owned(v) for k, v in obj.items()})
        return copy
    return obj


def _batch_size(batch: Any, stacked: Optional[bool]) -> int:
    found = {}  # certainty rank -> size; 0 is certain

    def walk(value, in_list=False):
        if isinstance(value, torch.Tensor) and value.dim() and not in_list:
            found.setdefault(1, value.shape[0])
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)) and value:
            if not all(isinstance(v, torch.Tensor) for v in value):
                found.setdefault(0, len(value))
            elif stacked:
                walk(value[0])
            else:
                found.setdefault(2, len(value))

    walk(batch)
    if not found:
        raise TypeError('cannot find the samples of a batch of type '
                        f'{type(batch).__name__} to replay')
    return found[min(found)]


class _Rows:
    """Ring storage of one tensor field: row ``i`` is slot ``i``."""

    def __init__(self, capacity: int, example: torch.Tensor, as_list: bool):
        self.dtype = example.dtype
        store = torch.half if example.is_floating_point() else example.dtype
        self.data = torch.empty((capacity, *example.shape), dtype=store)
        self.as_list = as_list  # per-sample tensors in, a list out

    def fits(self, rows: Any) -> bool:
        first = rows[0] if self.as_list else rows
        shape = tuple(first.shape[0 if self.as_list else 1:])
        return (first.dtype == self.dtype
                and shape == tuple(self.data.shape[1:])
                and (not self.as_list or all(
                    r.shape == first.shape for r in rows)))

    def put(self, slots: torch.Tensor, rows: Any, start: int,
            stop: int) -> None:
        rows = rows[start:stop]
        rows = torch.stack(list(rows)) if self.as_list else rows
        self.data.index_copy_(0, slots, rows.to(self.data.dtype))

    def take(self, slots: torch.Tensor) -> Any:
        rows = self.data.index_select(0, slots).to(self.dtype)
        return list(rows.unbind(0)) if self.as_list else rows

    def join(self, rows: Any, start: int, stop: int, drawn: Any) -> Any:
        """Rows ``start:stop`` of a loaded field followed by drawn rows,
        laid out as the field is."""
        if self.as_list:
            return list(rows[start:stop]) + drawn
        return torch.cat([rows[start:stop], drawn])


class _Objects:
    """Ring storage of one per-sample field of arbitrary objects."""

    def __init__(self, capacity: int, container: type):
        self.items: List[Any] = [None] * capacity
        self.container = container

    def fits(self, items: Any) -> bool:
        return True

    def put(self, slots: torch.Tensor, items: Any, start: int,
            stop: int) -> None:
        for slot, item in zip(slots.tolist(), items[start:stop]):
            self.items[slot] = owned(item)

    def take(self, slots: torch.Tensor) -> Any:
        return self.container(owned(self.items[s]) for s in slots.tolist())

    def join(self, items: Any, start: int, stop: int, drawn: Any) -> Any:
        return self.container(list(items[start:stop]) + list(drawn))


def _storage(value: Any, size: int, capacity: int,
             stacked: Optional[bool], path: str) -> Any:
    """The storage tree mirroring one batch's layout."""
    if isinstance(value, torch.Tensor):
        if value.dim() and value.shape[0] == size:
            return _Rows(capacity, value[0], as_list=False)
    elif isinstance(value, dict):
        return type(value), {
            k: _storage(v, size, capacity, stacked, f'{path}.{k}')
            for k, v in value.items()
        }
    elif isinstance(value, (list, tuple)):
        tensors = all(isinstance(v, torch.Tensor) for v in value)
        per_view = tensors and value and all(
            v.dim() and v.shape[0] == size for v in value)
        if per_view and (stacked or len(value) != size):
            return type(value), [
                _storage(v, size, capacity, stacked, f'{path}[{i}]')
                for i, v in enumerate(value)
            ]
        if len(value) == size:
            if tensors and all(v.shape == value[0].shape for v in value):
                return _Rows(capacity, value[0], as_list=True)
            return _Objects(capacity, type(value))
    raise TypeError(
        f'cannot replay batch field {path or "batch"} '
        f'({type(value).__name__}{_shape(value)}): a replayed field must '
        f'be a tensor or a list with one entry per sample ({size})')


def _shape(value: Any) -> str:
    return f' of shape {tuple(value.shape)}' if isinstance(
        value, torch.Tensor) else ''


def _leaves(node: Any, value: Any):
    """(storage, value) pairs of a batch laid out like ``node``."""
    if isinstance(node, (_Rows, _Objects)):
        yield node, value
        return
    container, children = node
    if not isinstance(value, container) or len(value) != len(children):
        raise KeyError('batch layout changed')
    pairs = children.items() if isinstance(children, dict) else enumerate(
        children)
    for key, child in pairs:
        yield from _leaves(child, value[key])


def _mix(node: Any, value: Any, start: int, stop: int,
         slots: torch.Tensor) -> Any:
    """Samples ``start:stop`` of the batch ``value`` followed by the
    samples in ``slots``, field by field."""
    if isinstance(node, (_Rows, _Objects)):
        return node.join(value, start, stop, node.take(slots))
    container, children = node
    if isinstance(children, dict):
        return container((k, _mix(c, value[k], start, stop, slots))
                         for k, c in children.items())
    return container(_mix(c, value[i], start, stop, slots)
                     for i, c in enumerate(children))


def _assemble(node: Any, slots: torch.Tensor) -> Any:
    if isinstance(node, (_Rows, _Objects)):
        return node.take(slots)
    container, children = node
    if isinstance(children, dict):
        return container((k, _assemble(c, slots)) for k, c in
                         children.items())
    return container(_assemble(c, slots) for c in children)


class ReplayBuffer:
    """A FIFO of the last ``capacity`` samples of collated batches, in
    storage it owns, from which batches are drawn uniformly.

    The storage is allocated at the first batch after :meth:`clear` (and
    again whenever a batch's layout or per-sample shape changes, which
    empties the FIFO: one size per batch).

    Args:
        capacity (int): samples held.
        seed (int): seed of the draws.
        stacked (bool, optional): whether lists of tensors in a batch are
            per-view batch tensors (True, stacking collates) or per-sample
            tensors (False); see :func:`stacks_tensors`. None: guessed.

    Example:
        >>> import torch
        >>> buffer = ReplayBuffer(capacity=3, seed=0)
        >>> buffer.extend({'inputs': torch.arange(4),
        ...                'labels': list('abcd')})  # 4 samples
        4
        >>> len(buffer), sorted(buffer.draw(8)['labels'])[0] != 'a'
        (3, True)
        >>> batch = buffer.draw(5)  # one slot per sample for every field
        >>> [('bcd'[i - 1]) for i in batch['inputs']] == batch['labels']
        True
    """

    def __init__(self,
                 capacity: int,
                 seed: int = 0,
                 stacked: Optional[bool] = None):
        if isinstance(capacity, bool) or not isinstance(
                capacity, int) or capacity < 1:
            raise ValueError(
                f'replay buffer capacity must be a positive int, got '
                f'{capacity!r}')
        self.capacity = capacity
        self.stacked = stacked
        self._generator = torch.Generator().manual_seed(seed)
        self.clear()

    def clear(self) -> None:
        """Drop the samples and the storage (a size change, or memory to
        free where replay is off)."""
        self._root = None
        self._next = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def reseed(self, seed: int) -> None:
        self._generator.manual_seed(seed)

    def batch_size(self, batch: Any) -> int:
        """The number of samples of a collated ``batch``."""
        return _batch_size(batch, self.stacked)

    def extend(self, batch: Any, start: int = 0,
               stop: Optional[int] = None) -> int:
        """Copy samples ``start:stop`` (default: all) of a collated
        ``batch`` in, evicting the oldest beyond ``capacity``; returns the
        batch's sample count."""
        size = _batch_size(batch, self.stacked)
        stop = size if stop is None else stop
        pairs = self._pairs(batch)
        if pairs is None:  # first batch, or a new layout: new storage
            self.clear()
            self._root = _storage(batch, size, self.capacity, self.stacked,
                                  '')
            pairs = list(_leaves(self._root, batch))
        first = max(start, stop - self.capacity)  # the rest would be evicted
        slots = (self._next + torch.arange(stop - first)) % self.capacity
        for store, value in pairs:
            store.put(slots, value, first, stop)
        self._next = (self._next + stop - first) % self.capacity
        self._count = min(self.capacity, self._count + stop - first)
        return size

    def _pairs(self, batch: Any) -> Optional[list]:
        if self._root is None:
            return None
        try:
            pairs = list(_leaves(self._root, batch))
        except KeyError:
            return None
        return pairs if all(store.fits(v) for store, v in pairs) else None

    def draw(self, count: int) -> Any:
        """A batch of ``count`` samples drawn uniformly with replacement,
        laid out like the stored batches, float fields in their original
        precision."""
        if not self._count:
            raise RuntimeError('the replay buffer is empty')
        slots = torch.randint(
            self._count, (count, ), generator=self._generator)
        return _assemble(self._root, slots)

    def mixed(self, batch: Any, start: int, stop: int, count: int) -> Any:
        """Samples ``start:stop`` of ``batch``, as loaded, followed by
        ``count`` samples drawn uniformly with replacement: one batch laid
        out as ``batch``, every field of a drawn sample from one slot.
        ``batch`` must be the one last passed to :meth:`extend` (its
        layout is the storage's).

        Example:
            >>> import torch
            >>> buffer = ReplayBuffer(capacity=8, seed=0)
            >>> batch = {'inputs': torch.arange(4), 'labels': list('abcd')}
            >>> buffer.extend(batch, 0, 2)  # the first fresh chunk
            4
            >>> mixed = buffer.mixed(batch, 0, 2, count=2)
            >>> mixed['inputs'][:2].tolist(), mixed['labels'][:2]
            ([0, 1], ['a', 'b'])
            >>> ['abcd'[i] for i in mixed['inputs']] == mixed['labels']
            True
        """
        pairs = self._pairs(batch)
        if pairs is None:
            raise ValueError('mixed() takes the batch last extended')
        if count and not self._count:
            raise RuntimeError('the replay buffer is empty')
        slots = torch.randint(
            max(self._count, 1), (count, ), generator=self._generator)
        return _mix(self._root, batch, start, stop, slots)

    def nbytes(self) -> int:
        """Bytes of the tensor storage (allocated for ``capacity``)."""
        stores = [] if self._root is None else [
            s for s, _ in _leaves_of(self._root)
        ]
        return sum(s.data.element_size() * s.data.nelement() for s in stores
                   if isinstance(s, _Rows))


def _leaves_of(node: Any):
    if isinstance(node, (_Rows, _Objects)):
        yield node, None
        return
    children = node[1]
    for child in (children.values()
                  if isinstance(children, dict) else children):
        yield from _leaves_of(child)
